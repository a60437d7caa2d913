using System.Diagnostics;
using System.Text.Json;
using Capa.Engine.Models.TestModels;

namespace Capa.Engine.Tests.Models.TestModels;

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

/// <summary>Runs tests/oracle/generate.mjs with node.</summary>
internal static class Oracle
{
    public static string? Directory { get; } = FindOracleDirectory();

    public static string? UnavailableReason { get; } = Directory is null
        ? "tests/oracle/node_modules/@huggingface/transformers is not installed (run npm ci in tests/oracle)"
        : FindNode() is null ? "node is not on PATH" : null;

    public static JsonDocument Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(FindNode()!)
        {
            WorkingDirectory = Directory!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("generate.mjs");
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("generate.mjs did not finish within 120 s.");
        }

        Assert.True(process.ExitCode == 0, $"generate.mjs failed ({process.ExitCode}): {stderr.Result}");
        return JsonDocument.Parse(stdout.Result);
    }

    private static string? FindOracleDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string oracle = Path.Combine(dir.FullName, "tests", "oracle");
            if (File.Exists(Path.Combine(dir.FullName, "Capa.slnx")))
            {
                return System.IO.Directory.Exists(Path.Combine(oracle, "node_modules", "@huggingface", "transformers")) ? oracle : null;
            }
        }

        return null;
    }

    private static string? FindNode()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string name in new[] { "node", "node.exe" })
            {
                string path = Path.Combine(dir, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }
}

/// <summary>A theory skipped, with the reason, where node or the oracle's node_modules are missing.</summary>
public sealed class OracleTheoryAttribute : TheoryAttribute
{
    public OracleTheoryAttribute()
    {
        if (Oracle.UnavailableReason is { } reason)
        {
            Skip = "Oracle unavailable: " + reason + ".";
        }
    }
}
