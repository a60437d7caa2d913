using System.Text;
using Capa.Models;
using Capa.Models.Hub;
using Capa.Models.Store;

namespace Capa.Models.Tests.Hub;

/// <summary>One Piper voice pulled out of a voice repository laid out as rhasspy/piper-voices, from the fake hub.</summary>
public sealed class HubVoicePullTests : IAsyncLifetime
{
    private const string RepoId = "rhasspy/piper-voices";
    private const string Lessac = "en/en_US/lessac/medium/en_US-lessac-medium";

    private readonly FakeHub _hub = new();
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-hub-voice-tests", Guid.NewGuid().ToString("N"));

    public Task InitializeAsync()
    {
        var repo = _hub.AddRepo(RepoId, "0123456789abcdef0123456789abcdef01234567");
        repo.Files["voices.json"] = new(Text("{}"));
        repo.Files["README.md"] = new(Text("# Piper voices\n"));
        repo.Files[Lessac + ".onnx"] = new(Bytes(70_000, 1), Lfs: true);
        repo.Files[Lessac + ".onnx.json"] = new(Text("""{"audio":{"sample_rate":22050},"espeak":{"voice":"en-us"},"phoneme_id_map":{}}"""));
        repo.Files["en/en_US/lessac/medium/MODEL_CARD"] = new(Text("lessac"));
        repo.Files["en/en_US/lessac/low/en_US-lessac-low.onnx"] = new(Bytes(30_000, 2), Lfs: true);
        repo.Files["en/en_US/lessac/low/en_US-lessac-low.onnx.json"] = new(Text("{}"));
        repo.Files["zh/zh_CN/huayan/medium/zh_CN-huayan-medium.onnx"] = new(Bytes(50_000, 3), Lfs: true);
        repo.Files["zh/zh_CN/huayan/medium/zh_CN-huayan-medium.onnx.json"] = new(Text("{}"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task Pulls_only_the_voices_two_files_into_ORG_VOICE_listed_as_a_speech_model()
    {
        using var client = Client();
        var store = new ModelStore(_root);
        var pulled = await client.PullVoiceAsync(RepoId, "en_US-lessac-medium", null, store);

        Assert.Equal("rhasspy/en_US-lessac-medium", pulled.Id);
        Assert.Equal(Path.Combine(_root, "rhasspy", "en_US-lessac-medium"), pulled.Directory);
        var files = Directory.EnumerateFiles(pulled.Directory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(pulled.Directory, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal([ModelManifest.FileName, Lessac + ".onnx", Lessac + ".onnx.json"], files);
        Assert.Equal(Bytes(70_000, 1), await File.ReadAllBytesAsync(Path.Combine(pulled.Directory, Lessac + ".onnx")));

        // Only the file list and the two files were asked for.
        var downloads = _hub.Requests.Where(r => r.Path.Contains("/resolve/", StringComparison.Ordinal)).Select(r => r.Path).ToList();
        Assert.Equal(2, downloads.Count);
        Assert.All(downloads, d => Assert.Contains("/en_US-lessac-medium.onnx", d, StringComparison.Ordinal));

        var listed = Assert.Single(store.List());
        Assert.Equal("rhasspy/en_US-lessac-medium", listed.Id);
        Assert.Equal([ModelCapabilities.Speech], listed.Capabilities);
        Assert.Equal(RepoId, listed.Manifest!.Repository);
        Assert.Equal(ModelVariant.Fp32, listed.Variant);
    }

    [Fact]
    public async Task A_voice_the_repository_lacks_is_refused_with_the_closest_voices_it_has()
    {
        using var client = Client();
        var error = await Assert.ThrowsAsync<HubException>(() => client.PullVoiceAsync(RepoId, "en_US-lessac-hihg", null, new ModelStore(_root)));
        Assert.Equal(HubErrorKind.FileNotFound, error.Kind);
        Assert.Contains("no voice 'en_US-lessac-hihg'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Voices it has: en_US-lessac-low, en_US-lessac-medium", error.Message, StringComparison.Ordinal);
        Assert.Empty(new ModelStore(_root).List());
    }

    private HubClient Client() => new(new HubClientOptions
    {
        Endpoint = _hub.Endpoint,
        MaxRetries = 0,
        RetryDelay = TimeSpan.Zero,
        ResponseTimeout = TimeSpan.FromSeconds(20),
        ReadTimeout = TimeSpan.FromSeconds(20),
    });

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);
}
