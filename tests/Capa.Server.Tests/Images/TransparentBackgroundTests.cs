using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Engine.Images;
using Capa.Engine.Images.Encoding;
using Capa.Models.Store;
using Capa.Server.Hosting;
using Capa.Server.Images;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels.Images;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Tests.Images;

/// <summary><c>background: "transparent"</c> with a background-removal model in the store: the images carry its alpha channel.</summary>
public sealed class TransparentBackgroundTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "capa-transparent-" + Guid.NewGuid().ToString("N"));
    private CapaTestServer _server = null!;

    public async Task InitializeAsync()
    {
        string models = Path.Combine(_directory, "models");
        BackgroundRemovalTestModelWriter.Write(ModelStore.Open(models).PathFor("test/tiny-rmbg"));
        _server = await CapaTestServer.StartAsync(
            new CapaServerOptions { ModelsDirectory = models },
            builder => builder.Services.AddImages(new ImageOptions { ModelsDirectory = models, IntraOpThreads = 1, FilesDirectory = Path.Combine(_directory, "files") }));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<JsonElement> PostAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _server.Http.PostAsync("/v1/images/generations", content);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static RgbImage Decode(JsonElement element) => ImageCodec.DecodeRgba(Convert.FromBase64String(element.GetProperty("b64_json").GetString()!));

    [Theory]
    [InlineData("png")]
    [InlineData("webp")]
    public async Task Transparent_images_carry_the_models_mask_as_alpha(string format)
    {
        JsonElement transparent = await PostAsync($$"""{"model":"gpt-image-1","prompt":"a logo","background":"transparent","output_format":"{{format}}","size":"1024x1024","seed":4}""");
        Assert.Equal("transparent", transparent.GetProperty("background").GetString());
        RgbImage image = Decode(transparent.GetProperty("data")[0]);
        Assert.Equal((1024, 1024), (image.Width, image.Height));
        byte[] alpha = [.. Enumerable.Range(0, image.Width * image.Height).Select(i => image.Pixels[(i * 4) + 3])];
        Assert.True(alpha.Distinct().Count() > 4, "the alpha channel is a mask, not a constant");

        // The same request without transparency is opaque everywhere.
        JsonElement opaque = await PostAsync($$"""{"model":"gpt-image-1","prompt":"a logo","background":"auto","output_format":"{{format}}","size":"1024x1024","seed":4}""");
        Assert.Equal("opaque", opaque.GetProperty("background").GetString());
        RgbImage solid = Decode(opaque.GetProperty("data")[0]);
        Assert.True(Enumerable.Range(0, solid.Width * solid.Height).All(i => solid.Pixels[(i * 4) + 3] == 255), "an opaque image has no transparent pixel");
    }

    [Fact]
    public async Task Streamed_previews_and_the_completed_image_are_transparent_too()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations")
        {
            Content = new StringContent("""{"model":"gpt-image-1","prompt":"a fox","quality":"high","background":"transparent","stream":true,"partial_images":1,"size":"1024x1024","seed":5}""", Encoding.UTF8, "application/json"),
        };
        using HttpResponseMessage response = await _server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string text = await response.Content.ReadAsStringAsync();
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(block => block.Split('\n').Single(l => l.StartsWith("data: ", StringComparison.Ordinal))[6..])
            .Select(data => JsonDocument.Parse(data).RootElement)
            .ToList();
        Assert.Equal(["image_generation.partial_image", "image_generation.completed"], events.Select(e => e.GetProperty("type").GetString()));
        Assert.All(events, e =>
        {
            Assert.Equal("transparent", e.GetProperty("background").GetString());
            RgbImage image = Decode(e);
            Assert.Contains(Enumerable.Range(0, image.Width * image.Height), i => image.Pixels[(i * 4) + 3] < 255);
        });
    }
}
