using System.ClientModel;
using System.ClientModel.Primitives;
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
using OpenAI;
using OpenAI.Images;

namespace Capa.Server.Tests.Images;

/// <summary>A tiny SDXL pipeline in the store, served under a configured alias, end to end through the official SDK.</summary>
public sealed class SdxlServingTests : IAsyncLifetime
{
    private const string StoreId = "test/tiny-sdxl";
    private const string Alias = "my-sdxl";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "capa-sdxl-serving-" + Guid.NewGuid().ToString("N"));
    private CapaTestServer _server = null!;
    private string _model = null!;

    public async Task InitializeAsync()
    {
        string models = Path.Combine(_directory, "models");
        _model = ModelStore.Open(models).PathFor(StoreId);
        DiffusionTestModelWriter.Write(new DiffusionTestModelSpec { Architecture = DiffusionTestArchitecture.StableDiffusionXl, Seed = 3 }, _model);
        _server = await CapaTestServer.StartAsync(
            new CapaServerOptions { ModelsDirectory = models, Aliases = new Dictionary<string, string> { [Alias] = StoreId } },
            builder => builder.Services.AddImages(new ImageOptions { ModelsDirectory = models, IntraOpThreads = 1, FilesDirectory = Path.Combine(_directory, "files") }));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task The_alias_serves_the_sdxl_pipelines_seeded_image_byte_for_byte()
    {
        using var content = new StringContent($$"""{"model":"{{Alias}}","prompt":"a lighthouse at dusk","size":"512x512","response_format":"b64_json","seed":11}""", Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _server.Http.PostAsync("/v1/images/generations", content);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("11", response.Headers.GetValues("x-capa-seed").Single());
        byte[] served = Convert.FromBase64String(JsonDocument.Parse(body).RootElement.GetProperty("data")[0].GetProperty("b64_json").GetString()!);

        // The same folder, request and seed through the engine directly: the server ran the SDXL pipeline, nothing else.
        using var pipeline = StableDiffusionPipeline.Load(DiffusionModelFolder.Open(_model), new DiffusionSessionOptions { IntraOpThreads = 1 });
        RgbImage expected = pipeline.Generate(new DiffusionRequest { Prompt = "a lighthouse at dusk", Width = 512, Height = 512, Seed = 11 }).Image;
        Assert.Equal(ImageCodec.Encode(expected, ImageOutputFormat.Png), served);
        Assert.NotEqual(served, ImageCodec.Encode(pipeline.Generate(new DiffusionRequest { Prompt = "a lighthouse at dawn", Width = 512, Height = 512, Seed = 11 }).Image, ImageOutputFormat.Png));
    }

    [Fact]
    public async Task The_sdk_gets_an_image_of_the_requested_size_from_the_alias_and_from_dall_e_3()
    {
        foreach (string model in new[] { Alias, "dall-e-3" })
        {
            ImageClient client = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
            {
                Endpoint = new Uri(_server.BaseUrl + "/v1"),
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                NetworkTimeout = TimeSpan.FromSeconds(120),
            }).GetImageClient(model);
            GeneratedImage image = (await client.GenerateImageAsync("a red bicycle", new ImageGenerationOptions
            {
                Size = GeneratedImageSize.W1024xH1024,
                ResponseFormat = GeneratedImageFormat.Bytes,
            })).Value;
            RgbImage decoded = ImageCodec.DecodeRgba(image.ImageBytes.ToArray());
            Assert.Equal((1024, 1024), (decoded.Width, decoded.Height));
        }
    }
}
