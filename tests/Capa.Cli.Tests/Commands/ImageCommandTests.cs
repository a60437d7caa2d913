using System.Buffers.Binary;
using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;
using Capa.Server.Hosting;
using Capa.Server.Images;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Capa.Cli.Tests.Commands;

/// <summary><c>capa image</c> against the real server serving <c>capa-sd-tiny</c> from a fresh store, and <c>capa testmodel --arch sd</c>.</summary>
public sealed class ImageCommandTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("capa-cli-image-").FullName;
    private WebApplication _app = null!;
    private string _baseUrl = null!;

    public async Task InitializeAsync()
    {
        string models = Path.Combine(_dir, "models");
        _app = CapaServer.Build(new CapaServerOptions { Urls = ["http://127.0.0.1:0"], ModelsDirectory = models, GetEnvironmentVariable = _ => null }, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Services.AddImages(new ImageOptions { ModelsDirectory = models, IntraOpThreads = 1 });
        });
        await _app.StartAsync();
        _baseUrl = CapaServer.GetAddresses(_app).First().TrimEnd('/') + "/v1";
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Writes_the_png_and_prints_the_revised_prompt_and_seed()
    {
        string cat = Path.Combine(_dir, "cat.png");
        var (exit, output) = await CommandHarness.RunAsync(ImageCommand.Create(), "一只猫", "-o", cat, "--seed", "7", "--base-url", _baseUrl);
        Assert.True(exit == 0, output);
        byte[] png = await File.ReadAllBytesAsync(cat);
        Assert.Equal((1024, 1024), (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))));
        Assert.Contains("Revised prompt: 一只猫", output, StringComparison.Ordinal);
        Assert.Contains("seed 7", output, StringComparison.Ordinal);

        string again = Path.Combine(_dir, "again.png");
        var (exit2, output2) = await CommandHarness.RunAsync(ImageCommand.Create(), "一只猫", "-o", again, "--seed", "7", "--base-url", _baseUrl);
        Assert.True(exit2 == 0, output2);
        Assert.Equal(png, await File.ReadAllBytesAsync(again));
    }

    [Fact]
    public async Task Bad_sizes_fail_with_OpenAIs_message()
    {
        var (exit, output) = await CommandHarness.RunAsync(ImageCommand.Create(), "a cat", "-o", Path.Combine(_dir, "x.png"), "--size", "512x512", "--base-url", _baseUrl);
        Assert.True(exit == 1, output);
        var (exit2, output2) = await CommandHarness.RunAsync(ImageCommand.Create(), "a cat", "--size", "big", "--base-url", _baseUrl);
        Assert.True(exit2 == 1, output2);
    }

    [Fact]
    public async Task Testmodel_writes_a_stable_diffusion_folder()
    {
        string folder = Path.Combine(_dir, "sd");
        var (exit, output) = await CommandHarness.RunAsync(TestModelCommand.Create(), folder, "--arch", "sd", "--size", "tiny");
        Assert.True(exit == 0, output);
        foreach (string file in new[] { "model_index.json", "scheduler/scheduler_config.json", "tokenizer/vocab.json", "tokenizer/merges.txt", "text_encoder/model.onnx", "unet/model.onnx", "vae_decoder/model.onnx", "vae_encoder/model.onnx" })
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), file);
        }

        Assert.True(Capa.Engine.Images.DiffusionModelFolder.IsDiffusionFolder(folder));
    }

    [Fact]
    public async Task Testmodel_writes_sdxl_and_background_removal_folders_and_refuses_other_sizes()
    {
        string folder = Path.Combine(_dir, "sdxl");
        var (exit, output) = await CommandHarness.RunAsync(TestModelCommand.Create(), folder, "--arch", "sdxl", "--size", "tiny");
        Assert.True(exit == 0, output);
        foreach (string file in new[] { "model_index.json", "tokenizer/vocab.json", "tokenizer_2/vocab.json", "tokenizer_2/merges.txt", "text_encoder/model.onnx", "text_encoder_2/model.onnx", "unet/model.onnx", "vae_decoder/model.onnx" })
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), file);
        }

        Assert.True(Capa.Engine.Images.DiffusionModelFolder.Open(folder).IsXl);
        var (refused, message) = await CommandHarness.RunAsync(TestModelCommand.Create(), Path.Combine(_dir, "sdxl-big"), "--arch", "sdxl", "--size", "sd-turbo");
        Assert.True(refused != 0, message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "sdxl-big")));

        string rmbg = Path.Combine(_dir, "rmbg");
        var (rmbgExit, rmbgOutput) = await CommandHarness.RunAsync(TestModelCommand.Create(), rmbg, "--arch", "rmbg", "--size", "tiny");
        Assert.True(rmbgExit == 0, rmbgOutput);
        Assert.True(Capa.Engine.Images.BackgroundRemover.IsBackgroundRemovalFolder(rmbg));
    }
}
