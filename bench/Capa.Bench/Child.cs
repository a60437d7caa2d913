using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Capa.Engine.Text.Generation;
using Capa.Models;

namespace Capa.Bench;

/// <summary>Measures one configuration in this process and prints one JSON line.</summary>
internal static class Child
{
    public static async Task<int> RunAsync(string[] args)
    {
        // args: DIR QUANT PROMPT DECODE THREADS [LOGITS_MIB MEMORY_PATTERN ACCURACY LAST_LOGITS_ONLY PREFILL_CHUNK]
        var dir = args[0];
        var variant = ModelVariants.Parse(args[1]) ?? throw new ArgumentException(args[1]);
        var promptTokens = int.Parse(args[2], CultureInfo.InvariantCulture);
        var decodeTokens = int.Parse(args[3], CultureInfo.InvariantCulture);
        var threads = int.Parse(args[4], CultureInfo.InvariantCulture);
        var decoderOptions = new OnnxDecoderOptions { IntraOpThreads = threads };
        if (args.Length > 5)
        {
            decoderOptions = decoderOptions with { MaxPrefillLogitsBytes = long.Parse(args[5], CultureInfo.InvariantCulture) << 20 };
        }

        if (args.Length > 6)
        {
            decoderOptions = decoderOptions with { EnableMemoryPattern = args[6] == "1" };
        }

        if (args.Length > 7)
        {
            decoderOptions = decoderOptions with { MatMulNBitsAccuracyLevel = args[7] == "file" ? null : int.Parse(args[7], CultureInfo.InvariantCulture) };
        }

        if (args.Length > 8)
        {
            // 0 measures prefill as before the last-position rewrite (every position projected onto the vocabulary).
            decoderOptions = decoderOptions with { ComputeLastLogitsOnly = args[8] == "1" };
        }

        if (args.Length > 9)
        {
            decoderOptions = decoderOptions with { PrefillChunkTokens = int.Parse(args[9], CultureInfo.InvariantCulture) };
        }

        var load = Stopwatch.StartNew();
        var folder = ModelFolder.Load(dir, variant);
        using var decoder = OnnxDecoderModel.Load(folder, decoderOptions);
        load.Stop();

        var rng = new Random(1234);
        var prompt = Enumerable.Range(0, promptTokens).Select(_ => rng.Next(0, 100_000)).ToArray();

        // Warm-up: a short prefill and a few decode steps, so one-time kernel preparation is not measured.
        using (var warm = decoder.CreateSequence())
        {
            warm.Forward(prompt.AsSpan(0, 16));
            warm.Forward([1]);
            warm.Forward([2]);
        }

        // Prefill alone.
        double prefillSeconds;
        using (var seq = decoder.CreateSequence())
        {
            var sw = Stopwatch.StartNew();
            seq.Forward(prompt);
            prefillSeconds = sw.Elapsed.TotalSeconds;
        }

        // The whole loop (prefill, sampling, detokenizing, scheduling) through the engine; every id yields text, so every
        // token produces an update to time.
        using var engine = new TextGenerationEngine(decoder, new IdTokenizer(decoder.LogitsWidth), []);
        var request = new GenerationRequest { PromptTokens = prompt, MaxTokens = decodeTokens, Seed = 1, Sampling = new() { Temperature = 0 } };
        var total = Stopwatch.StartNew();
        using var stream = await engine.StartAsync(request);
        double first = 0, last = 0;
        var count = 0;
        await foreach (var update in stream.ReadAllAsync())
        {
            last = total.Elapsed.TotalMilliseconds;
            if (count++ == 0)
            {
                first = last;
            }
        }

        var m = new Measurement("capa", args[1], promptTokens / prefillSeconds, (stream.CompletionTokens - 1) / ((last - first) / 1000.0), first, PeakRssMiB(), load.Elapsed.TotalMilliseconds);
        Console.WriteLine(JsonSerializer.Serialize(m));
        return 0;
    }

    internal static double PeakRssMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        return double.NaN;
    }

    private sealed class IdTokenizer(int size) : IGenerationTokenizer
    {
        public int VocabSize => size;

        public IReadOnlyList<int> Encode(string text, bool addSpecialTokens) => throw new NotSupportedException();

        public bool IsSpecial(int id) => false;

        public byte[] GetTokenBytes(int id) => [(byte)'x'];

        public IStreamingDetokenizer CreateStreamingDetokenizer() => new Detokenizer();

        private sealed class Detokenizer : IStreamingDetokenizer
        {
            public string Append(int id) => "x";

            public string Flush() => string.Empty;
        }
    }
}
