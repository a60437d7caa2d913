using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Capa.Server.Hosting;
using Capa.Server.Tests.Images;
using Capa.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Tests.Files;

/// <summary>Files expire by the server's clock everywhere: retrieve, content and list agree.</summary>
public sealed class FileExpiryTests
{
    [Fact]
    public async Task An_expired_file_is_gone_from_retrieve_content_and_list_alike()
    {
        var clock = new ManualTimeProvider();
        await using var server = await CapaTestServer.StartAsync(new CapaServerOptions(), builder => builder.Services.AddSingleton<TimeProvider>(clock));
        using var form = new MultipartFormDataContent();
        var part = new ByteArrayContent([1, 2, 3]);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        form.Add(part, "file", "data.jsonl");
        form.Add(new StringContent("batch"), "purpose");
        form.Add(new StringContent("created_at"), "expires_after[anchor]");
        form.Add(new StringContent("3600"), "expires_after[seconds]");
        using var created = await server.Http.PostAsync("/v1/files", form);
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        string id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        async Task<bool> ListedAsync() =>
            JsonDocument.Parse(await server.Http.GetStringAsync("/v1/files")).RootElement.GetProperty("data").EnumerateArray().Any(f => f.GetProperty("id").GetString() == id);

        Assert.True(await ListedAsync());
        clock.Advance(TimeSpan.FromHours(2));

        Assert.False(await ListedAsync());
        using var retrieved = await server.Http.GetAsync($"/v1/files/{id}");
        await ErrorAssert.IsOpenAIErrorAsync(retrieved, HttpStatusCode.NotFound);
        using var content = await server.Http.GetAsync($"/v1/files/{id}/content");
        await ErrorAssert.IsOpenAIErrorAsync(content, HttpStatusCode.NotFound);
    }
}
