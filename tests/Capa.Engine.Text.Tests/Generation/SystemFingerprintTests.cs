using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.TestModels;

namespace Capa.Engine.Text.Tests.Generation;

public sealed class SystemFingerprintTests(TinyModels models) : IClassFixture<TinyModels>
{
    private static readonly Dictionary<string, string> Numerics = new() { ["ep"] = "CPUExecutionProvider", ["ep.intra_op_threads"] = "2" };

    [Fact]
    public void Compute_IsOrderIndependent_Short_AndSensitiveToEveryInput()
    {
        var a = SystemFingerprint.Compute([new("b", "2"), new("a", "1")]);
        Assert.Equal(a, SystemFingerprint.Compute([new("a", "1"), new("b", "2")]));
        Assert.Matches("^fp_[0-9a-f]{10}$", a);
        Assert.NotEqual(a, SystemFingerprint.Compute([new("a", "1"), new("b", "3")]));
        Assert.NotEqual(a, SystemFingerprint.Compute([new("a", "1"), new("b", "2"), new("c", "")]));
        Assert.Throws<ArgumentException>(() => SystemFingerprint.Compute([new("a", "x\ny")]));
    }

    [Fact]
    public void EngineInputs_CoverVersionsVariantFilesAndOptions_AndChangeWithThem()
    {
        var dir = Path.Combine(models.Root, "fp-copy");
        CopyDirectory(models.Get(TestModelArch.Qwen2), dir);
        var digests = new FileDigestCache(Path.Combine(models.Root, "fp-digests.json"));
        var fp32 = SystemFingerprint.EngineInputs(ModelFolder.Load(dir, ModelVariant.Fp32), Numerics, digests);
        Assert.Contains("engine.version", fp32.Keys);
        Assert.Contains("onnxruntime.version", fp32.Keys);
        Assert.Equal(Capa.Constraints.ConstraintsVersion.Value, fp32["constraints"]);
        Assert.Equal("fp32", fp32["model.variant"]);
        Assert.Matches("^[0-9a-f]{64}$", fp32["model.file.onnx/model.onnx"]);
        Assert.Contains("model.file.tokenizer.json", fp32.Keys);
        Assert.Equal("2", fp32["ep.intra_op_threads"]);

        var baseline = SystemFingerprint.Compute(fp32);
        Assert.Equal(baseline, SystemFingerprint.Compute(SystemFingerprint.EngineInputs(ModelFolder.Load(dir, ModelVariant.Fp32), Numerics, digests)));
        Assert.NotEqual(baseline, SystemFingerprint.Compute(SystemFingerprint.EngineInputs(ModelFolder.Load(dir, ModelVariant.Q4), Numerics, digests)));
        Assert.NotEqual(baseline, SystemFingerprint.Compute(SystemFingerprint.EngineInputs(
            ModelFolder.Load(dir, ModelVariant.Fp32), new Dictionary<string, string>(Numerics) { ["ep.intra_op_threads"] = "1" }, digests)));

        var otherConstraints = new SortedDictionary<string, string>(fp32) { ["constraints"] = "json-pda/v0" };
        Assert.NotEqual(baseline, SystemFingerprint.Compute(otherConstraints));

        File.AppendAllText(Path.Combine(dir, "onnx", "model.onnx"), "x");
        Assert.NotEqual(baseline, SystemFingerprint.Compute(SystemFingerprint.EngineInputs(ModelFolder.Load(dir, ModelVariant.Fp32), Numerics, digests)));
    }

    [Fact]
    public void DigestCache_DoesNotRehashUnchangedFiles_AcrossInstances()
    {
        var file = Path.Combine(models.Root, "digest-me.bin");
        Directory.CreateDirectory(models.Root);
        File.WriteAllBytes(file, [1, 2, 3]);
        var cachePath = Path.Combine(models.Root, "digests-" + Guid.NewGuid().ToString("N") + ".json");
        var first = new FileDigestCache(cachePath);
        var digest = first.GetSha256(file);
        Assert.Equal("039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81", digest);
        Assert.Equal(1, first.FilesHashed);

        var second = new FileDigestCache(cachePath);
        Assert.Equal(digest, second.GetSha256(file));
        Assert.Equal(0, second.FilesHashed);

        File.WriteAllBytes(file, [1, 2, 3, 4]);
        Assert.NotEqual(digest, second.GetSha256(file));
        Assert.Equal(1, second.FilesHashed);

        File.WriteAllText(cachePath, "{ not json");
        var third = new FileDigestCache(cachePath);
        Assert.Equal(second.GetSha256(file), third.GetSha256(file));
        Assert.Equal(1, third.FilesHashed);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
