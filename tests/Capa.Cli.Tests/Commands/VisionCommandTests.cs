using System.Text.Json;
using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Capa.Cli.Tests.Commands;

/// <summary><c>capa vision IMAGE "QUESTION"</c> and <c>capa chat --image</c> against a fake OpenAI endpoint.</summary>
public sealed class VisionCommandTests : IAsyncLifetime
{
    // The smallest PNG signature-led bytes: the command sends files as they are, so they need not decode.
    private static readonly byte[] PngBytes = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4, 5];
    private readonly string _directory = Directory.CreateTempSubdirectory("capa-vision-cli-").FullName;
    private FakeOpenAiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task AFile_IsSentAsABase64DataUrl_AfterTheQuestion_AndTheAnswerIsStreamed()
    {
        // Named .bin: the type comes from the bytes, as the server decides it.
        var path = Path.Combine(_directory, "photo.bin");
        await File.WriteAllBytesAsync(path, PngBytes);

        var (exit, output) = await RunAsync(VisionCommand.Create(_ => false), [path, "这个图片里面有什么内容？", "--seed", "11"]);

        Assert.Equal(0, exit);
        Assert.Contains(FakeOpenAiServer.Story(11), output, StringComparison.Ordinal);
        using var request = JsonDocument.Parse(_server.LastRequestBody!);
        var root = request.RootElement;
        Assert.Equal("gpt-4-vision-preview", root.GetProperty("model").GetString());
        Assert.True(root.GetProperty("stream").GetBoolean());
        var content = root.GetProperty("messages")[0].GetProperty("content");
        Assert.Equal(2, content.GetArrayLength());
        Assert.Equal("这个图片里面有什么内容？", content[0].GetProperty("text").GetString());
        Assert.Equal("image_url", content[1].GetProperty("type").GetString());
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(PngBytes), content[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.False(content[1].GetProperty("image_url").TryGetProperty("detail", out _));
    }

    [Fact]
    public async Task AnHttpsUrl_IsPassedOn_WithDetailModelAndNoStream()
    {
        var url = "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/boardwalk.jpg/2560px-boardwalk.jpg";
        var (exit, _) = await RunAsync(VisionCommand.Create(_ => false), [url, "What is in it?", "--detail", "low", "--model", "gpt-4o", "--no-stream"]);

        Assert.Equal(0, exit);
        using var request = JsonDocument.Parse(_server.LastRequestBody!);
        var root = request.RootElement;
        Assert.Equal("gpt-4o", root.GetProperty("model").GetString());
        Assert.False(root.TryGetProperty("stream", out var stream) && stream.GetBoolean());
        var image = root.GetProperty("messages")[0].GetProperty("content")[1].GetProperty("image_url");
        Assert.Equal(url, image.GetProperty("url").GetString());
        Assert.Equal("low", image.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("missing.png", "auto", "no such file")]
    [InlineData("photo.png", "ultra", "--detail must be low, high or auto")]
    public async Task BadInput_IsRefusedBeforeAnyRequest(string file, string detail, string message)
    {
        await File.WriteAllBytesAsync(Path.Combine(_directory, "photo.png"), PngBytes);
        var (exit, output) = await RunAsync(VisionCommand.Create(_ => false), [Path.Combine(_directory, file), "Hi", "--detail", detail]);

        Assert.Equal(1, exit);
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.Null(_server.LastRequestBody);
    }

    [Fact]
    public async Task Chat_WithImages_SendsEachAfterThePrompt()
    {
        var first = Path.Combine(_directory, "a.png");
        await File.WriteAllBytesAsync(first, PngBytes);
        var (exit, _) = await RunAsync(ChatCommand.Create(_ => false), ["Compare them", "--image", first, "--image", "https://example.com/b.webp", "--detail", "high"]);

        Assert.Equal(0, exit);
        using var request = JsonDocument.Parse(_server.LastRequestBody!);
        var content = request.RootElement.GetProperty("messages")[0].GetProperty("content");
        Assert.Equal(3, content.GetArrayLength());
        Assert.StartsWith("data:image/png;base64,", content[1].GetProperty("image_url").GetProperty("url").GetString(), StringComparison.Ordinal);
        Assert.Equal("https://example.com/b.webp", content[2].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("high", content[2].GetProperty("image_url").GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Chat_WithoutImages_SendsPlainText()
    {
        var (exit, _) = await RunAsync(ChatCommand.Create(_ => false), ["Hi"]);

        Assert.Equal(0, exit);
        using var request = JsonDocument.Parse(_server.LastRequestBody!);
        Assert.Equal(JsonValueKind.String, request.RootElement.GetProperty("messages")[0].GetProperty("content").ValueKind);
    }

    private Task<(int ExitCode, string Output)> RunAsync(System.CommandLine.Command command, string[] args) =>
        CommandHarness.RunAsync(command, [.. args, "--base-url", _server.BaseUrl.ToString(), "--api-key", "test"]);
}

/// <summary><c>capa vision</c> against the real server on a fresh store, answered offline by <c>capa-tiny-vision</c>.</summary>
public sealed class VisionCommandRealServerTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("capa-vision-cli-real-").FullName;
    private readonly TempStateDirectory _state = new();
    private WebApplication _app = null!;
    private string _baseUrl = null!;

    public async Task InitializeAsync()
    {
        var models = Path.Combine(_root, "models");
        var cache = Path.Combine(_root, "cache");
        _app = CapaServer.Build(
            new CapaServerOptions { Urls = ["http://127.0.0.1:0"], ModelsDirectory = models, StateDirectory = _state.Path, GetEnvironmentVariable = _ => null },
            builder =>
            {
                builder.Logging.ClearProviders();
                builder.Services.AddLocalChatProvider(new LocalProviderOptions { ModelsDirectory = models, CacheDirectory = cache });
                builder.Services.AddLocalVisionProvider(new LocalVisionProviderOptions { ModelsDirectory = models, CacheDirectory = cache });
            });
        _app.Services.GetRequiredService<LocalChatProvider>().PrepareStore();
        _app.Services.GetRequiredService<LocalVisionProvider>().PrepareStore();
        await _app.StartAsync();
        _baseUrl = CapaServer.GetAddresses(_app).First().TrimEnd('/') + "/v1";
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _state.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task APhotoAndTheTutorialsQuestion_AreAnswered()
    {
        var photo = Path.Combine(_root, "photo.png");
        using (var bitmap = new SkiaSharp.SKBitmap(40, 30))
        {
            bitmap.Erase(new SkiaSharp.SKColor(30, 120, 200));
            using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            await File.WriteAllBytesAsync(photo, data.ToArray());
        }

        var (exit, output) = await CommandHarness.RunAsync(
            VisionCommand.Create(_ => false), photo, "这个图片里面有什么内容？", "--max-tokens", "8", "--seed", "1", "--base-url", _baseUrl, "--api-key", "unused");

        Assert.True(exit == 0, output);
        Assert.Contains("[model gpt-4-vision-preview · system_fingerprint fp_", output, StringComparison.Ordinal);
        Assert.Contains("finish ", output, StringComparison.Ordinal);
    }
}
