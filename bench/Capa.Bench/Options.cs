using System.Globalization;

namespace Capa.Bench;

/// <summary>Command-line options of the benchmark.</summary>
internal sealed record BenchOptions
{
    public string ModelsDirectory { get; init; } = Path.Combine(AppContext.BaseDirectory, "models");

    public IReadOnlyList<string> Quants { get; init; } = ["q4", "int8", "fp32"];

    public int PromptTokens { get; init; } = 512;

    public int DecodeTokens { get; init; } = 128;

    public int Rounds { get; init; } = 2;

    public int Threads { get; init; } = Environment.ProcessorCount;

    public bool TransformersJs { get; init; }

    /// <summary>Measure decode with and without json_object instead of the runtime comparison.</summary>
    public bool JsonMode { get; init; }

    public string Output { get; init; } = "bench/RESULTS.md";

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var o = new BenchOptions();
        var outGiven = args.Contains("--out");
        for (var i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            o = args[i] switch
            {
                "--models" => o with { ModelsDirectory = Next() },
                "--quants" => o with { Quants = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--prompt" => o with { PromptTokens = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--decode" => o with { DecodeTokens = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--rounds" => o with { Rounds = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--threads" => o with { Threads = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--js" => o with { TransformersJs = true },
                "--json" => o with { JsonMode = true },
                "--out" => o with { Output = Next() },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }

        if (o.JsonMode && !outGiven)
        {
            o = o with { Output = "bench/RESULTS-json-mode.md" };
        }

        foreach (var q in o.Quants)
        {
            if (q is not ("q4" or "int8" or "fp32"))
            {
                throw new ArgumentException($"Unknown quant '{q}' (q4, int8, fp32).");
            }
        }

        if (o.PromptTokens < 1 || o.DecodeTokens < 2 || o.Rounds < 1 || o.Threads < 1)
        {
            throw new ArgumentException("--prompt ≥ 1, --decode ≥ 2, --rounds ≥ 1 and --threads ≥ 1 are required.");
        }

        return o;
    }
}

/// <summary>One measured run.</summary>
internal sealed record Measurement(string Runtime, string Quant, double PrefillTokPerSec, double DecodeTokPerSec, double TtftMs, double PeakRssMiB, double LoadMs);
