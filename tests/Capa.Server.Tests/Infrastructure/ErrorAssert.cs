using System.Net;
using System.Text.Json;

namespace Capa.Server.Tests.Infrastructure;

/// <summary>Checks that a response is an error in OpenAI's shape.</summary>
internal static class ErrorAssert
{
    public static async Task<JsonElement> IsOpenAIErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? code = null, string? param = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.True(response.Headers.Contains("x-request-id"), "x-request-id missing");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = Shape(body);
        if (code is not null)
        {
            Assert.Equal(code, error.GetProperty("code").GetString());
        }

        if (param is not null)
        {
            Assert.Equal(param, error.GetProperty("param").GetString());
        }

        return error;
    }

    /// <summary>Parses <c>{"error":{"message":string,"type":string,"param":string|null,"code":string|null}}</c>.</summary>
    public static JsonElement Shape(string body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        var error = root.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.GetProperty("param").ValueKind is JsonValueKind.String or JsonValueKind.Null);
        Assert.True(error.GetProperty("code").ValueKind is JsonValueKind.String or JsonValueKind.Null);
        return error.Clone();
    }
}
