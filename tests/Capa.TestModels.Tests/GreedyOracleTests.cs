using System.Text.Json;
using Capa.TestModels;

namespace Capa.TestModels.Tests;

/// <summary>
/// transformers.js (onnxruntime-node) generates greedily from the same folder and must pick the same tokens
/// as a plain ONNX Runtime loop: the files are usable by the reference consumer, not only by Capa.
/// </summary>
[Collection(TestModelCollection.Name)]
public sealed class GreedyOracleTests(TestModelFolders folders)
{
    private const string SeedQuestion = "谁获得了2022年英雄联盟S赛世界冠军？";
    private const int NewTokens = 16;

    [OracleTheory]
    [MemberData(nameof(TestModelFolders.ArchsAndQuants), MemberType = typeof(TestModelFolders))]
    public void Transformers_js_generates_the_same_greedy_tokens(TestModelArch arch, TestModelQuant quant)
    {
        TestModelResult folder = folders.Get(arch);
        string dtype = quant switch { TestModelQuant.Fp32 => "fp32", TestModelQuant.Int8 => "int8", _ => "q4" };
        using JsonDocument oracle = Oracle.Run("--model", folder.Directory, "--dtype", dtype, "--max-new-tokens", NewTokens.ToString(System.Globalization.CultureInfo.InvariantCulture), "--text", SeedQuestion);
        int[] promptIds = [.. oracle.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32())];
        int[] expected = [.. oracle.RootElement.GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt32())];

        // transformers.js's tokenizer reads our tokenizer.json the way our trainer meant it.
        Assert.Equal(TestTokenizer.For(TestModelFamily.For(arch)).EncodeText(SeedQuestion), promptIds);

        using JsonDocument generation = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder.Directory, "generation_config.json")));
        var eos = generation.RootElement.GetProperty("eos_token_id").EnumerateArray().Select(e => e.GetInt32()).ToHashSet();
        using var decoder = new OrtDecoder(folders.OnnxPath(arch, quant));
        List<int> actual = decoder.Greedy(promptIds, NewTokens, eos);

        Assert.Equal(expected, actual);
    }
}
