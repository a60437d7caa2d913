using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Engine.Text.Generation;
using Capa.TestModels;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Providers.Local;

/// <summary>
/// The 4-bit matmul accuracy level reaches the engine from the server's settings (option, config file, default 4), and
/// the level in use is part of <c>system_fingerprint</c>. A q4 test model whose file carries level 0.
/// </summary>
public sealed class Q4AccuracyServerTests : IDisposable
{
    private const string ModelId = "test/tiny-q4";
    private readonly string _models = Path.Combine(Path.GetTempPath(), "capa-q4-accuracy-" + Guid.NewGuid().ToString("N"));

    public Q4AccuracyServerTests() =>
        TestModelWriter.Write(
            new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Q4], Seed = 7 },
            Path.Combine(_models, "test", "tiny-q4"));

    public void Dispose()
    {
        Directory.Delete(_models, recursive: true);
        Directory.Delete(_models + ".cache", recursive: true);
    }

    [Fact]
    public async Task TheSettingReachesTheEngine_AndChangesTheFingerprint()
    {
        var config = Path.Combine(_models, "capa.json");
        await File.WriteAllTextAsync(config, """{ "q4_accuracy": "file" }""");

        var byDefault = await FingerprintAsync(new CapaServerOptions());
        var fromOption = await FingerprintAsync(new CapaServerOptions { Q4Accuracy = Q4Accuracy.File });
        var fromFile = await FingerprintAsync(new CapaServerOptions { ConfigFile = config });
        var optionOverFile = await FingerprintAsync(new CapaServerOptions { ConfigFile = config, Q4Accuracy = new Q4Accuracy(4) });

        Assert.Equal(("4 (file: 0)", "file:0", "file:0", "4 (file: 0)"), (byDefault.Level, fromOption.Level, fromFile.Level, optionOverFile.Level));
        Assert.NotEqual(byDefault.Fingerprint, fromOption.Fingerprint);
        Assert.Equal(fromOption.Fingerprint, fromFile.Fingerprint);
        Assert.Equal(byDefault.Fingerprint, optionOverFile.Fingerprint);
    }

    private async Task<(string? Level, string Fingerprint)> FingerprintAsync(CapaServerOptions options)
    {
        await using var server = await CapaTestServer.StartAsync(options, builder => builder.Services.AddLocalChatProvider(new LocalProviderOptions
        {
            ModelsDirectory = _models,
            CacheDirectory = _models + ".cache",
            CreateTinyModelWhenEmpty = false,
            Model = new LocalChatModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 } },
        }));
        var body = JsonSerializer.Serialize(new { model = ModelId, max_tokens = 1, seed = 1, messages = new[] { new { role = "user", content = "Hi" } } });
        using var response = await server.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var provider = (LocalChatProvider)server.Services.GetService(typeof(LocalChatProvider))!;
        using var json = JsonDocument.Parse(text);
        return (provider.GetModel(ModelId)!.Decoder.MatMulNBitsAccuracyLevel, json.RootElement.GetProperty("system_fingerprint").GetString()!);
    }
}
