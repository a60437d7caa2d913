using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.Models.Onnx;
using Capa.TestModels;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Bench;

/// <summary>
/// Does ONNX Runtime's CPU execution give a row the same bits alone as inside a batch? Before batching decode across
/// sequences (issue 17, item 1) this measures it, kernel by kernel and for a whole decoder step:
/// <list type="bullet">
/// <item>single-node graphs (MatMul fp32, MatMulNBits q4 at accuracy_level 4 and 0) at the test models' and
/// Qwen2.5-0.5B's shapes: each of 16 rows computed alone (M = 1) against the same row inside M = 2…16, and inside
/// M = 16 beside zero rows against beside other rows (a fixed batch width);</item>
/// <item>the decode step of the random-weight test models' optimum-layout graphs, loaded as the engine loads them
/// (accuracy rewrite, last-position logits): each sequence's logits alone (batch 1, its own past) against the same
/// sequence in batches of 2…16 whose pasts have equal lengths, and whose pasts differ (3…63 or 17…932 positions) and
/// are left-padded with an attention mask (what a batched decode without per-sequence attention would do);</item>
/// <item>com.microsoft GroupQueryAttention (the per-sequence attention of ONNX Runtime GenAI's graphs): one decode step
/// alone against the same row in a batch whose past buffer is as long as the longest, with <c>seqlens_k</c>.</item>
/// </list>
/// Prints markdown tables: "=" where every row is bitwise equal, else the largest absolute difference.
/// <code>capa-bench --batch-probe [--models DIR] [--threads 1,2] [--archs qwen2,llama] [--half]</code>
/// With <c>--decode-timing</c> it times instead one decode step of today's batch-1 path against
/// <see cref="OnnxDecoderModel.DecodeBatch"/> with B = 1, 2, 4, 8 sequences (q4 qwen2; 0.5b shapes with <c>--half</c>).
/// </summary>
internal static class BatchInvarianceProbe
{
    private const int Rows = 16;
    private static readonly RunOptions RunOptions = new();
    private static readonly int[] BatchSizes = [2, 3, 4, 5, 8, 15, 16];

    public static int Run(IReadOnlyList<string> args)
    {
        var models = Path.Combine(Path.GetTempPath(), "capa-batch-probe");
        var threads = new[] { 1, Environment.ProcessorCount }.Distinct().ToArray();
        var archs = new[] { TestModelArch.Qwen2, TestModelArch.Llama };
        var half = false;
        var timing = false;
        for (var i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--models":
                    models = Next();
                    break;
                case "--threads":
                    threads = [.. Next().Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture))];
                    break;
                case "--archs":
                    archs = [.. Next().Split(',').Select(TestModelSpec.ParseArch)];
                    break;
                case "--half":
                    half = true;
                    break;
                case "--decode-timing":
                    timing = true;
                    break;
                default:
                    throw new ArgumentException($"Unknown option {args[i]}.");
            }
        }

        Console.WriteLine($"ONNX Runtime {OrtEnv.Instance().GetVersionString()}, {Environment.ProcessorCount} cores, {RuntimeInformation.ProcessArchitecture}");
        Console.WriteLine();
        if (timing)
        {
            DecodeTiming(models, half ? TestModelSize.HalfB : TestModelSize.Tiny, threads.Max());
            return 0;
        }

        KernelTable(threads, half);
        GroupQueryAttentionTable(threads, half);
        foreach (var t in threads)
        {
            DecoderTable(models, archs, half, t);
        }

        return 0;
    }

    private static SessionOptions Options(int threads) => new()
    {
        // As OnnxDecoderModel creates its sessions.
        IntraOpNumThreads = threads,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
    };

    private static string Cell(float maxDiff) => maxDiff == 0f ? "=" : maxDiff.ToString("0.0e+0", CultureInfo.InvariantCulture);

    private static float MaxDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var max = 0f;
        var anyBits = false;
        for (var i = 0; i < a.Length; i++)
        {
            if (BitConverter.SingleToUInt32Bits(a[i]) != BitConverter.SingleToUInt32Bits(b[i]))
            {
                anyBits = true;
                max = MathF.Max(max, MathF.Abs(a[i] - b[i]));
            }
        }

        // Bits that differ by less than a float can show (e.g. -0 and +0) still count as a difference.
        return anyBits && max == 0f ? float.Epsilon : max;
    }

    // ---- decode step time: today's batch-1 step against one batched step of B sequences ----

    private static void DecodeTiming(string root, TestModelSize size, int threads)
    {
        var dir = Path.Combine(root, $"qwen2-{(size == TestModelSize.Tiny ? "tiny" : "0.5b")}");
        if (!File.Exists(Path.Combine(dir, "config.json")))
        {
            TestModelWriter.Write(new TestModelSpec { Arch = TestModelArch.Qwen2, Size = size, Quants = [TestModelQuant.Q4], Seed = 7 }, dir);
        }

        var folder = ModelFolder.Load(dir, ModelVariant.Q4);
        using var today = OnnxDecoderModel.Load(folder, new OnnxDecoderOptions { IntraOpThreads = threads, GroupQueryAttention = false });
        using var batched = OnnxDecoderModel.Load(folder, new OnnxDecoderOptions { IntraOpThreads = threads });
        Console.WriteLine($"q4 accuracy level {batched.MatMulNBitsAccuracyLevel}, {threads} threads, cpu {KernelRowInvariance.CpuKernelClass}; " +
            $"batched: {batched.BatchesDecode} (min rows {batched.DecodeBatchMinRows}) {batched.BatchDecodeNotSupportedReason}");
        int[] sizes = [1, 2, 4, 8];
        const int Rounds = 12;
        var sequences = new IDecoderSequence[sizes.Max()];
        for (var i = 0; i < sequences.Length; i++)
        {
            sequences[i] = batched.CreateSequence();
            sequences[i].Forward([.. Enumerable.Range(0, 40 + (i * 17)).Select(j => ((j * 31) + i + 3) % 2000)]);
        }

        using var single = today.CreateSequence();
        single.Forward([.. Enumerable.Range(0, 100).Select(j => ((j * 31) + 3) % 2000)]);
        var times = sizes.ToDictionary(b => b, _ => new List<double>());
        var baseline = new List<double>();
        var logits = sequences.Select(_ => new float[batched.LogitsWidth]).ToArray();
        for (var round = 0; round < Rounds; round++)
        {
            // Interleaved, so that load changes hit every configuration alike.
            var watch = System.Diagnostics.Stopwatch.StartNew();
            single.Forward([round + 5]);
            baseline.Add(watch.Elapsed.TotalMilliseconds);
            foreach (var b in sizes)
            {
                var slots = Enumerable.Range(0, b).Select(i => new DecodeSlot(sequences[i], round + i + 5, logits[i])).ToArray();
                watch.Restart();
                batched.DecodeBatch(slots);
                times[b].Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        var today1 = Median(baseline);
        Console.WriteLine($"| step | median ms | tokens/s | vs today's batch-1 step |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine($"| today, batch 1 | {today1:0.0} | {1000 / today1:0.0} | 1.00 |");
        foreach (var b in sizes)
        {
            var t = Median(times[b]);
            Console.WriteLine($"| DecodeBatch B={b} | {t:0.0} | {b * 1000 / t:0.0} | {t / today1:0.00} |");
        }

        foreach (var sequence in sequences)
        {
            sequence.Dispose();
        }
    }

    // ---- single kernels ----

    private static void KernelTable(IReadOnlyList<int> threads, bool half)
    {
        var shapes = new List<(int K, int N, string Where)> { (64, 192, "tiny MLP up"), (192, 64, "tiny MLP down"), (64, 64, "tiny attention") };
        if (half)
        {
            shapes.AddRange([(896, 896, "0.5b q/o proj"), (896, 4864, "0.5b MLP up"), (4864, 896, "0.5b MLP down")]);
        }

        var kernels = new (string Name, int? Accuracy)[] { ("MatMul fp32", null), ("MatMulNBits q4, accuracy_level 4", 4), ("MatMulNBits q4, accuracy_level 0", 0) };
        var header = "| kernel | K×N (where) | threads | " + string.Join(" | ", BatchSizes.Select(m => $"M={m}")) + " | M=16 beside zero rows vs other rows |";
        Console.WriteLine("### Kernels: row r alone (M = 1) vs the same row among M rows");
        Console.WriteLine();
        Console.WriteLine(header);
        Console.WriteLine("|" + string.Concat(Enumerable.Repeat("---|", 4 + BatchSizes.Length)));
        foreach (var (name, accuracy) in kernels)
        {
            foreach (var (k, n, where) in shapes)
            {
                var model = KernelModel(k, n, accuracy);
                foreach (var t in threads)
                {
                    using var options = Options(t);
                    using var session = new InferenceSession(model, options);
                    var x = RandomFloats(Rows * k, seed: k * 31 + n);
                    var alone = new float[Rows][];
                    for (var r = 0; r < Rows; r++)
                    {
                        alone[r] = RunKernel(session, x.AsSpan(r * k, k), 1, k, n);
                    }

                    var cells = new List<string>();
                    foreach (var m in BatchSizes)
                    {
                        var y = RunKernel(session, x.AsSpan(0, m * k), m, k, n);
                        var max = 0f;
                        for (var r = 0; r < m; r++)
                        {
                            max = MathF.Max(max, MaxDiff(alone[r], y.AsSpan(r * n, n)));
                        }

                        cells.Add(Cell(max));
                    }

                    // Fixed width: row r beside zero rows against beside the other random rows, both at M = 16.
                    var fixedMax = 0f;
                    var full = RunKernel(session, x, Rows, k, n);
                    for (var r = 0; r < Rows; r++)
                    {
                        var lonely = new float[Rows * k];
                        x.AsSpan(r * k, k).CopyTo(lonely.AsSpan(r * k));
                        var y = RunKernel(session, lonely, Rows, k, n);
                        fixedMax = MathF.Max(fixedMax, MaxDiff(y.AsSpan(r * n, n), full.AsSpan(r * n, n)));
                    }

                    Console.WriteLine($"| {name} | {k}×{n} ({where}) | {t} | {string.Join(" | ", cells)} | {Cell(fixedMax)} |");
                }
            }
        }

        Console.WriteLine();
    }

    private static float[] RunKernel(InferenceSession session, ReadOnlySpan<float> x, int m, int k, int n)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(x.ToArray(), [m, k]);
        using var outputs = session.Run(RunOptions, ["x"], [input], ["y"]);
        var y = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        return y.Length == m * n ? y : throw new InvalidOperationException("Unexpected output size.");
    }

    private static byte[] KernelModel(int k, int n, int? accuracy)
    {
        var g = new OnnxGraphBuilder();
        var x = g.Input("x", OnnxDataType.Float, "m", k);
        string y;
        if (accuracy is null)
        {
            var w = RandomFloats(k * n, seed: 7 + k + n);
            y = g.Op("MatMul", [x, g.Initializer("w", [k, n], w)]);
        }
        else
        {
            var blocks = k / 32;
            var packed = new byte[n * blocks * 16];
            new System.Random(11 + k + n).NextBytes(packed);
            var scales = RandomFloats(n * blocks, seed: 13 + k + n).Select(s => 0.002f + (MathF.Abs(s) * 0.02f)).ToArray();
            var b = g.Initializer("w_q4", OnnxDataType.UInt8, [n, blocks, 16], () => packed);
            var sc = g.Initializer("w_scales", [n * blocks], scales);
            y = g.OpIn("com.microsoft", "MatMulNBits", [x, b, sc], 1,
                OnnxAttribute.Int("K", k), OnnxAttribute.Int("N", n), OnnxAttribute.Int("bits", 4),
                OnnxAttribute.Int("block_size", 32), OnnxAttribute.Int("accuracy_level", accuracy.Value))[0];
        }

        g.Output(y, "y", OnnxDataType.Float, "m", n);
        return OnnxModelWriter.ToBytes(g.Build("probe"));
    }

    private static float[] RandomFloats(int count, int seed)
    {
        var random = new System.Random(seed);
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    // ---- attention computed per sequence: com.microsoft GroupQueryAttention with seqlens_k ----

    private static void GroupQueryAttentionTable(IReadOnlyList<int> threads, bool half)
    {
        var shapes = new List<(int Heads, int KvHeads, int HeadDim, string Where)> { (4, 2, 16, "tiny") };
        if (half)
        {
            shapes.Add((14, 2, 64, "0.5b"));
        }

        Console.WriteLine("### GroupQueryAttention (one decode step): a sequence alone (past buffer of its own length) vs in a batch of B");
        Console.WriteLine();
        Console.WriteLine("The batch's past buffer is as long as the longest past, each row right-padded, `seqlens_k` = its own length.");
        Console.WriteLine();
        Console.WriteLine("| heads / kv heads / head dim | threads | pasts | " + string.Join(" | ", BatchSizes.Select(b => $"B={b}")) + " |");
        Console.WriteLine("|" + string.Concat(Enumerable.Repeat("---|", 3 + BatchSizes.Length)));
        foreach (var (heads, kvHeads, headDim, where) in shapes)
        {
            var model = GroupQueryAttentionModel(heads, kvHeads, headDim);
            foreach (var (t, pasts) in threads.SelectMany(t => new[] { Pasts.Short, Pasts.ShortOdd, Pasts.Long }.Select(p => (t, p))))
            {
                using var options = Options(t);
                using var session = new InferenceSession(model, options);
                var lengths = Enumerable.Range(0, Rows).Select(r => PastLength(pasts, r)).ToArray();
                var q = RandomFloats(Rows * heads * headDim, seed: 21);
                var k = RandomFloats(Rows * kvHeads * headDim, seed: 22);
                var v = RandomFloats(Rows * kvHeads * headDim, seed: 23);
                var pastK = lengths.Select((l, r) => RandomFloats(kvHeads * l * headDim, seed: 100 + r)).ToArray();
                var pastV = lengths.Select((l, r) => RandomFloats(kvHeads * l * headDim, seed: 200 + r)).ToArray();
                var width = heads * headDim;
                var alone = Enumerable.Range(0, Rows).Select(r => RunAttention(session, [r], lengths, q, k, v, pastK, pastV, heads, kvHeads, headDim)).ToArray();
                var cells = BatchSizes.Select(b =>
                {
                    var rows = Enumerable.Range(0, b).ToArray();
                    var output = RunAttention(session, rows, lengths, q, k, v, pastK, pastV, heads, kvHeads, headDim);
                    return Cell(rows.Max(r => MaxDiff(alone[r], output.AsSpan(r * width, width))));
                });
                Console.WriteLine($"| {heads} / {kvHeads} / {headDim} ({where}) | {t} | {(pasts == Pasts.Short ? "3…63" : pasts == Pasts.ShortOdd ? "3…78" : "17…932")} | {string.Join(" | ", cells)} |");
            }
        }

        Console.WriteLine();
    }

    private static float[] RunAttention(InferenceSession session, int[] rows, int[] lengths, float[] q, float[] k, float[] v, float[][] pastK, float[][] pastV,
        int heads, int kvHeads, int headDim)
    {
        var b = rows.Length;
        var longest = rows.Max(r => lengths[r]);
        var query = new float[b * heads * headDim];
        var key = new float[b * kvHeads * headDim];
        var value = new float[b * kvHeads * headDim];
        var bufferK = new float[b * kvHeads * longest * headDim];
        var bufferV = new float[b * kvHeads * longest * headDim];
        for (var i = 0; i < b; i++)
        {
            var r = rows[i];
            var l = lengths[r];
            q.AsSpan(r * heads * headDim, heads * headDim).CopyTo(query.AsSpan(i * heads * headDim));
            k.AsSpan(r * kvHeads * headDim, kvHeads * headDim).CopyTo(key.AsSpan(i * kvHeads * headDim));
            v.AsSpan(r * kvHeads * headDim, kvHeads * headDim).CopyTo(value.AsSpan(i * kvHeads * headDim));
            for (var h = 0; h < kvHeads; h++)
            {
                pastK[r].AsSpan(h * l * headDim, l * headDim).CopyTo(bufferK.AsSpan(((i * kvHeads) + h) * longest * headDim));
                pastV[r].AsSpan(h * l * headDim, l * headDim).CopyTo(bufferV.AsSpan(((i * kvHeads) + h) * longest * headDim));
            }
        }

        using var inputs = new DisposableList(
        [
            OrtValue.CreateTensorValueFromMemory(query, [b, 1, heads * headDim]),
            OrtValue.CreateTensorValueFromMemory(key, [b, 1, kvHeads * headDim]),
            OrtValue.CreateTensorValueFromMemory(value, [b, 1, kvHeads * headDim]),
            OrtValue.CreateTensorValueFromMemory(bufferK, [b, kvHeads, longest, headDim]),
            OrtValue.CreateTensorValueFromMemory(bufferV, [b, kvHeads, longest, headDim]),
            OrtValue.CreateTensorValueFromMemory(rows.Select(r => lengths[r]).ToArray(), [b]),
            OrtValue.CreateTensorValueFromMemory(new[] { longest + 1 }, []),
        ]);
        using var outputs = session.Run(RunOptions, ["query", "key", "value", "past_key", "past_value", "seqlens_k", "total_sequence_length"], inputs.Values, ["output"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static byte[] GroupQueryAttentionModel(int heads, int kvHeads, int headDim)
    {
        var g = new OnnxGraphBuilder();
        var inputs = new[]
        {
            g.Input("query", OnnxDataType.Float, "b", 1, heads * headDim),
            g.Input("key", OnnxDataType.Float, "b", 1, kvHeads * headDim),
            g.Input("value", OnnxDataType.Float, "b", 1, kvHeads * headDim),
            g.Input("past_key", OnnxDataType.Float, "b", kvHeads, "past", headDim),
            g.Input("past_value", OnnxDataType.Float, "b", kvHeads, "past", headDim),
            g.Input("seqlens_k", OnnxDataType.Int32, "b"),
            g.Input("total_sequence_length", OnnxDataType.Int32),
        };
        var outputs = g.OpIn("com.microsoft", "GroupQueryAttention", inputs, 3,
            OnnxAttribute.Int("num_heads", heads), OnnxAttribute.Int("kv_num_heads", kvHeads));
        g.Output(outputs[0], "output", OnnxDataType.Float, "b", 1, heads * headDim);
        g.Output(outputs[1], "present_key", OnnxDataType.Float, "b", kvHeads, "total", headDim);
        g.Output(outputs[2], "present_value", OnnxDataType.Float, "b", kvHeads, "total", headDim);
        return OnnxModelWriter.ToBytes(g.Build("probe"));
    }

    private sealed class DisposableList(OrtValue[] values) : IDisposable
    {
        public OrtValue[] Values => values;

        public void Dispose()
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    // ---- whole decoder steps ----

    private static void DecoderTable(string root, IReadOnlyList<TestModelArch> archs, bool half, int threads)
    {
        Console.WriteLine($"### Decoder step ({threads} intra-op thread{(threads == 1 ? "" : "s")}): a sequence alone (batch 1) vs in a batch of B");
        Console.WriteLine();
        Console.WriteLine("| model | weights | pasts in the batch | " + string.Join(" | ", BatchSizes.Select(b => $"B={b}")) + " |");
        Console.WriteLine("|" + string.Concat(Enumerable.Repeat("---|", 3 + BatchSizes.Length)));
        var targets = archs.Select(a => (Arch: a, Size: TestModelSize.Tiny)).ToList();
        if (half)
        {
            targets.Add((TestModelArch.Qwen2, TestModelSize.HalfB));
        }

        foreach (var (arch, size) in targets)
        {
            var sizeName = size == TestModelSize.Tiny ? "tiny" : "0.5b";
            var dir = Path.Combine(root, $"{arch.ToString().ToLowerInvariant()}-{sizeName}");
            if (!File.Exists(Path.Combine(dir, "config.json")))
            {
                var quants = size == TestModelSize.Tiny ? new[] { TestModelQuant.Fp32, TestModelQuant.Q4 } : [TestModelQuant.Q4];
                TestModelWriter.Write(new TestModelSpec { Arch = arch, Size = size, Quants = quants, Seed = 7 }, dir);
            }

            var variants = size == TestModelSize.Tiny
                ? new (ModelVariant Variant, int? Accuracy, string Name)[] { (ModelVariant.Fp32, null, "fp32"), (ModelVariant.Q4, 4, "q4, level 4"), (ModelVariant.Q4, 0, "q4, level 0") }
                : [(ModelVariant.Q4, 4, "q4, level 4"), (ModelVariant.Q4, 0, "q4, level 0")];
            foreach (var (variant, accuracy, name) in variants)
            {
                var folder = ModelFolder.Load(dir, variant);
                using var probe = new DecoderProbe(folder.OnnxPath, accuracy, threads);
                foreach (var pasts in Enum.GetValues<Pasts>())
                {
                    // The long pasts of 0.5b take minutes to prefill: only at the level the engine runs by default.
                    if (pasts is (Pasts.Long or Pasts.ShortOdd) && size != TestModelSize.Tiny && accuracy != 4)
                    {
                        continue;
                    }

                    var cells = BatchSizes.Select(b => Cell(probe.Compare(b, pasts))).ToArray();
                    Console.WriteLine($"| {arch.ToString().ToLowerInvariant()} {sizeName} | {name} | {Describe(pasts)} | {string.Join(" | ", cells)} |");
                }
            }
        }

        Console.WriteLine();
    }

    /// <summary>The past lengths of the 16 sequences of a decoder probe.</summary>
    private enum Pasts
    {
        /// <summary>All 24 (no padding).</summary>
        Equal,

        /// <summary>3 + 4r (3…63), left-padded to the longest of the batch: every padding a multiple of 4.</summary>
        Short,

        /// <summary>3 + 5r (3…78), left-padded to the longest of the batch: paddings of any residue.</summary>
        ShortOdd,

        /// <summary>17 + 61r (17…932), left-padded to the longest of the batch.</summary>
        Long,
    }

    private static string Describe(Pasts pasts) => pasts switch
    {
        Pasts.Equal => "equal lengths (24)",
        Pasts.Short => "lengths 3…63 (step 4), left-padded + mask",
        Pasts.ShortOdd => "lengths 3…78 (step 5), left-padded + mask",
        _ => "lengths 17…932, left-padded + mask",
    };

    private static int PastLength(Pasts pasts, int row) => pasts switch
    {
        Pasts.Equal => 24,
        Pasts.Short => 3 + (4 * row),
        Pasts.ShortOdd => 3 + (5 * row),
        _ => 17 + (61 * row),
    };

    /// <summary>One decoder graph loaded as the engine loads it, with 16 prefilled sequences of each kind.</summary>
    private sealed class DecoderProbe : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly string[] _past;
        private readonly string[] _present;
        private readonly int _kvHeads;
        private readonly int _headDim;
        private readonly int _vocab;
        private readonly Dictionary<Pasts, (float[][][] Kv, int[] Lengths, int[] Next, float[][] Alone)> _sets = [];

        public DecoderProbe(string onnxPath, int? accuracy, int threads)
        {
            var bytes = File.ReadAllBytes(onnxPath);
            if (accuracy is { } level)
            {
                bytes = MatMulNBitsRewriter.Rewrite(bytes, level).Model;
            }

            bytes = LastPositionLogitsRewriter.Rewrite(bytes, threads).Model ?? bytes;
            using var options = Options(threads);
            options.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", Path.GetDirectoryName(onnxPath)!);
            _session = new InferenceSession(bytes, options);
            _past = [.. _session.InputNames.Where(n => n.StartsWith("past_key_values.", StringComparison.Ordinal))];
            _present = [.. _past.Select(n => "present." + n["past_key_values.".Length..])];
            var dims = _session.InputMetadata[_past[0]].Dimensions;
            (_kvHeads, _headDim) = (dims[1], dims[3]);
            _vocab = _session.OutputMetadata["logits"].Dimensions[^1];
        }

        public void Dispose() => _session.Dispose();

        /// <summary>The largest difference between each of the first <paramref name="b"/> sequences' logits alone and in one batch.</summary>
        public float Compare(int b, Pasts pasts)
        {
            var set = Prepare(pasts);
            var rows = Enumerable.Range(0, b).ToArray();
            var logits = Step(rows.Select(r => set.Kv[r]).ToArray(), rows.Select(r => set.Lengths[r]).ToArray(), rows.Select(r => set.Next[r]).ToArray());
            var max = 0f;
            foreach (var r in rows)
            {
                max = MathF.Max(max, MaxDiff(set.Alone[r], logits.AsSpan(r * _vocab, _vocab)));
            }

            return max;
        }

        private (float[][][] Kv, int[] Lengths, int[] Next, float[][] Alone) Prepare(Pasts pasts)
        {
            if (_sets.TryGetValue(pasts, out var set))
            {
                return set;
            }

            var kv = new float[Rows][][];
            var lengths = new int[Rows];
            var next = new int[Rows];
            var alone = new float[Rows][];
            var random = new System.Random(5 + (int)pasts);
            for (var r = 0; r < Rows; r++)
            {
                lengths[r] = PastLength(pasts, r);
                var prompt = Enumerable.Range(0, lengths[r]).Select(_ => random.Next(Math.Min(_vocab, 200))).ToArray();
                kv[r] = Prefill(prompt);
                next[r] = random.Next(Math.Min(_vocab, 200));
                alone[r] = Step([kv[r]], [lengths[r]], [next[r]]);
            }

            set = (kv, lengths, next, alone);
            _sets[pasts] = set;
            return set;
        }

        // The prompt in one forward at batch 1, as the engine's first chunk; returns each cache tensor's [kvHeads, L, headDim].
        private float[][] Prefill(int[] prompt)
        {
            var n = prompt.Length;
            var values = new List<OrtValue>
            {
                OrtValue.CreateTensorValueFromMemory(prompt.Select(t => (long)t).ToArray(), [1, n]),
                OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, n).ToArray(), [1, n]),
                OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, n).Select(p => (long)p).ToArray(), [1, n]),
            };
            values.AddRange(_past.Select(_ => OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, [1, _kvHeads, 0, _headDim])));
            try
            {
                using var outputs = _session.Run(RunOptions, ["input_ids", "attention_mask", "position_ids", .. _past], values, _present);
                return [.. outputs.Select(o => o.GetTensorDataAsSpan<float>().ToArray())];
            }
            finally
            {
                values.ForEach(v => v.Dispose());
            }
        }

        // One decode step for several sequences: pasts left-padded to the longest, masked; positions are each sequence's own.
        private float[] Step(float[][][] kv, int[] lengths, int[] next)
        {
            var b = kv.Length;
            var longest = lengths.Max();
            var mask = new long[b * (longest + 1)];
            for (var r = 0; r < b; r++)
            {
                for (var t = longest - lengths[r]; t <= longest; t++)
                {
                    mask[(r * (longest + 1)) + t] = 1;
                }
            }

            var values = new List<OrtValue>
            {
                OrtValue.CreateTensorValueFromMemory(next.Select(t => (long)t).ToArray(), [b, 1]),
                OrtValue.CreateTensorValueFromMemory(mask, [b, longest + 1]),
                OrtValue.CreateTensorValueFromMemory(lengths.Select(l => (long)l).ToArray(), [b, 1]),
            };
            for (var i = 0; i < _past.Length; i++)
            {
                var padded = new float[b * _kvHeads * longest * _headDim];
                for (var r = 0; r < b; r++)
                {
                    var l = lengths[r];
                    for (var h = 0; h < _kvHeads; h++)
                    {
                        kv[r][i].AsSpan(h * l * _headDim, l * _headDim)
                            .CopyTo(padded.AsSpan((((r * _kvHeads) + h) * longest + (longest - l)) * _headDim));
                    }
                }

                values.Add(OrtValue.CreateTensorValueFromMemory(padded, [b, _kvHeads, longest, _headDim]));
            }

            try
            {
                using var outputs = _session.Run(RunOptions, ["input_ids", "attention_mask", "position_ids", .. _past], values, ["logits"]);
                var logits = outputs[0].GetTensorDataAsSpan<float>().ToArray();
                return logits.Length == b * _vocab ? logits : throw new InvalidOperationException("Unexpected logits size.");
            }
            finally
            {
                values.ForEach(v => v.Dispose());
            }
        }
    }
}
