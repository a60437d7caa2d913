using System.Net;
using System.Text.Json;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Models;

[Collection(ServerCollection.Name)]
public sealed class ModelEndpointsTests(ServerFixture fixture)
{
    [Fact]
    public async Task List_ThroughTheSdk_HasLocalUpstreamAndAliasIds()
    {
        var models = (await fixture.Client().GetOpenAIModelClient().GetModelsAsync()).Value;
        var ids = models.Select(m => m.Id).ToHashSet();

        Assert.Contains("local-chat", ids);
        Assert.Contains("onnx-community/Qwen2.5-0.5B-Instruct", ids);
        Assert.Contains("fake-model", ids);
        Assert.Contains("org/upstream-model", ids);
        Assert.Contains("gpt-4o", ids);
        Assert.Contains("gpt-4-1106-preview", ids);
        Assert.Contains("dall-e-3", ids);
        Assert.DoesNotContain("whisper-1", ids);
        Assert.Equal(ids.Count, models.Count);
        Assert.Equal("fake", models.Single(m => m.Id == "fake-model").OwnedBy);
    }

    [Theory]
    [InlineData("onnx-community/Qwen2.5-0.5B-Instruct")]
    [InlineData("org/upstream-model")]
    [InlineData("local-chat")]
    [InlineData("gpt-4o")]
    public async Task Get_ThroughTheSdk_EchoesTheId(string id)
    {
        var model = (await fixture.Client().GetOpenAIModelClient().GetModelAsync(id)).Value;
        Assert.Equal(id, model.Id);
    }

    [Theory]
    [InlineData("/v1/models/onnx-community/Qwen2.5-0.5B-Instruct", "onnx-community/Qwen2.5-0.5B-Instruct")]
    [InlineData("/v1/models/onnx-community%2FQwen2.5-0.5B-Instruct", "onnx-community/Qwen2.5-0.5B-Instruct")]
    [InlineData("/v1/models/local-chat", "local-chat")]
    public async Task Get_Raw_HandlesSlashes(string path, string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Authorization", "Bearer " + ServerFixture.ApiKey);
        using var response = await fixture.Server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(id, json.RootElement.GetProperty("id").GetString());
        Assert.Equal("model", json.RootElement.GetProperty("object").GetString());
        Assert.Equal(JsonValueKind.Number, json.RootElement.GetProperty("created").ValueKind);
        Assert.Equal(JsonValueKind.String, json.RootElement.GetProperty("owned_by").ValueKind);
    }

    [Theory]
    [InlineData("/v1/models/no-such-model")]
    [InlineData("/v1/models/org/no-such-model")]
    [InlineData("/v1/models/whisper-1")]
    public async Task Get_Unknown_Is404(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Authorization", "Bearer " + ServerFixture.ApiKey);
        using var response = await fixture.Server.Http.SendAsync(request);
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.NotFound, "model_not_found");
    }
}
