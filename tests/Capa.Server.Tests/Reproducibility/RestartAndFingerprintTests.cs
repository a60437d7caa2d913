using System.Text;
using Capa.Models;
using Capa.Models.Store;
using Capa.TestModels;
using OpenAI.Chat;

namespace Capa.Server.Tests.Reproducibility;

/// <summary>
/// <c>system_fingerprint</c> and seeded output across server restarts: unchanged when nothing changed, different when a
/// model file or the variant changes.
/// </summary>
public sealed class RestartAndFingerprintTests : IDisposable
{
    private static readonly ChatMessage[] Story =
    [
        new SystemChatMessage("You are a helpful assistant that generates short stories."),
        new UserChatMessage("Generate a short story about a journey to Mars."),
    ];

    private readonly TempModels _models = new();

    public void Dispose() => _models.Dispose();

    private static async Task<ChatOutcome> AskAsync(LocalReproServer server, string model) =>
        await LocalReproServer.RunAsync(server.Chat(model), Story, LocalReproServer.Options(maxTokens: 16, temperature: 0.7f, seed: 123), stream: false);

    [Fact]
    public async Task Restart_GivesTheSameContentAndFingerprint_WithoutRehashingTheModel()
    {
        ChatOutcome before;
        await using (var server = await LocalReproServer.StartAsync(_models.Path, cacheDirectory: _models.CachePath))
        {
            before = await AskAsync(server, "capa-tiny");
        }

        // The digests are cached in Capa's cache, never in the models folder.
        var digests = Assert.Single(Directory.GetFiles(Path.Combine(_models.CachePath, "digests")));
        Assert.False(Directory.Exists(_models.Path) && Directory.EnumerateFileSystemEntries(_models.Path).Any(), "nothing is written into the models folder");
        var cached = File.ReadAllBytes(digests);
        var cachedAt = File.GetLastWriteTimeUtc(digests);

        ChatOutcome after;
        await using (var server = await LocalReproServer.StartAsync(_models.Path, cacheDirectory: _models.CachePath))
        {
            after = await AskAsync(server, "capa-tiny");
        }

        Assert.Equal(before.Output, after.Output);
        Assert.Matches("^fp_[0-9a-f]{10}$", Assert.Single(before.Fingerprints));
        Assert.Equal(before.Fingerprints, after.Fingerprints);
        Assert.Equal("123", after.SeedHeader);

        // A second start served every digest from the cache: the cache file was not rewritten.
        Assert.Equal(cached, File.ReadAllBytes(digests));
        Assert.Equal(cachedAt, File.GetLastWriteTimeUtc(digests));
    }

    [Fact]
    public async Task ChangingAModelFile_ChangesTheFingerprint_AndRestoringItRestoresIt()
    {
        var store = ModelStore.Open(_models.Path);
        var original = store.PathFor("test/tiny");
        var copy = store.PathFor("test/tiny-copy");
        TestModelWriter.Write(new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32], Seed = 7 }, original);
        CopyFolder(original, copy);

        // Identical bytes in another folder: the fingerprint depends on content, not on paths or names.
        string baseline;
        ChatOutcome baselineOutput;
        await using (var server = await LocalReproServer.StartAsync(_models.Path, cacheDirectory: _models.CachePath))
        {
            baselineOutput = await AskAsync(server, "test/tiny");
            var copied = await AskAsync(server, "test/tiny-copy");
            baseline = Assert.Single(baselineOutput.Fingerprints)!;
            Assert.Equal(baseline, Assert.Single(copied.Fingerprints));
            Assert.Equal(baselineOutput.Output, copied.Output);
        }

        // generation_config.json edited in the copy.
        var config = Path.Combine(copy, "generation_config.json");
        var configBytes = File.ReadAllBytes(config);
        var edited = Encoding.UTF8.GetString(configBytes);
        var brace = edited.IndexOf('{', StringComparison.Ordinal);
        File.WriteAllText(config, edited[..(brace + 1)] + "\"capa_test_edit\": 1, " + edited[(brace + 1)..]);
        string editedFingerprint;
        await using (var server = await LocalReproServer.StartAsync(_models.Path, cacheDirectory: _models.CachePath))
        {
            Assert.Equal(baseline, Assert.Single((await AskAsync(server, "test/tiny")).Fingerprints));
            editedFingerprint = Assert.Single((await AskAsync(server, "test/tiny-copy")).Fingerprints)!;
            Assert.NotEqual(baseline, editedFingerprint);
        }

        // Restored: the same fingerprint and output as before (the digest cache noticed the rewrite).
        File.WriteAllBytes(config, configBytes);
        await using (var server = await LocalReproServer.StartAsync(_models.Path, cacheDirectory: _models.CachePath))
        {
            var restored = await AskAsync(server, "test/tiny-copy");
            Assert.Equal(baseline, Assert.Single(restored.Fingerprints));
            Assert.Equal(baselineOutput.Output, restored.Output);
        }

        // Other weights of exactly the same shape and size in the copy's ONNX file.
        var other = Path.Combine(_models.Path, ".partial", "other-weights");
        TestModelWriter.Write(new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32], Seed = 8 }, other);
        var onnx = Path.Combine(copy, "onnx", "model.onnx");
        var otherOnnx = Path.Combine(other, "onnx", "model.onnx");
        Assert.Equal(new FileInfo(onnx).Length, new FileInfo(otherOnnx).Length);
        Assert.NotEqual(File.ReadAllBytes(onnx), File.ReadAllBytes(otherOnnx));
        File.Copy(otherOnnx, onnx, overwrite: true);
        await using (var server = await LocalReproServer.StartAsync(_models.Path, cacheDirectory: _models.CachePath))
        {
            Assert.Equal(baseline, Assert.Single((await AskAsync(server, "test/tiny")).Fingerprints));
            var reweighted = Assert.Single((await AskAsync(server, "test/tiny-copy")).Fingerprints);
            Assert.NotEqual(baseline, reweighted);
            Assert.NotEqual(editedFingerprint, reweighted);
        }
    }

    [Fact]
    public async Task AnotherVariantOfTheSameModel_HasAnotherFingerprint()
    {
        var folder = ModelStore.Open(_models.Path).PathFor("test/dual");
        TestModelWriter.Write(new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32, TestModelQuant.Q4], Seed = 11 }, folder);

        var fingerprints = new List<string>();
        foreach (var variant in new[] { ModelVariant.Fp32, ModelVariant.Q4, ModelVariant.Fp32 })
        {
            await using var server = await LocalReproServer.StartAsync(_models.Path, variant, _models.CachePath);
            var outcome = await AskAsync(server, "test/dual");
            Assert.Equal(variant, server.Provider.GetModel("test/dual")!.Folder.Variant);
            fingerprints.Add(Assert.Single(outcome.Fingerprints)!);
        }

        Assert.NotEqual(fingerprints[0], fingerprints[1]);
        Assert.Equal(fingerprints[0], fingerprints[2]);
    }

    [Fact]
    public async Task VocabAndMergesTokenizer_EditingMergesTxt_ChangesTheFingerprint()
    {
        // A folder with the slow tokenizer files (vocab.json + merges.txt, no tokenizer.json), as many older repos ship.
        var folder = ModelStore.Open(_models.Path).PathFor("test/slow");
        TestModelWriter.Write(new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32], Seed = 7 }, folder);
        var tokenizerJson = Path.Combine(folder, "tokenizer.json");
        using (var tokenizer = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(tokenizerJson)))
        {
            var model = tokenizer.RootElement.GetProperty("model");
            File.WriteAllText(Path.Combine(folder, "vocab.json"), model.GetProperty("vocab").GetRawText());
            File.WriteAllLines(Path.Combine(folder, "merges.txt"), ["#version: 0.2", .. model.GetProperty("merges").EnumerateArray().Select(m => m.GetString()!)]);
        }

        File.Delete(tokenizerJson);
        ChatOutcome before;
        await using (var server = await LocalReproServer.StartAsync(_models.Path, cacheDirectory: _models.CachePath))
        {
            before = await AskAsync(server, "test/slow");
        }

        // Without its last merges, the prompt tokenizes into more tokens: the outputs of the same request change.
        var merges = Path.Combine(folder, "merges.txt");
        var lines = File.ReadAllLines(merges);
        File.WriteAllLines(merges, lines[..(lines.Length / 2)]);
        ChatOutcome after;
        await using (var server = await LocalReproServer.StartAsync(_models.Path, cacheDirectory: _models.CachePath))
        {
            after = await AskAsync(server, "test/slow");
        }

        Assert.NotEqual(before.Usage, after.Usage);
        Assert.NotEqual(Assert.Single(before.Fingerprints), Assert.Single(after.Fingerprints));
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
