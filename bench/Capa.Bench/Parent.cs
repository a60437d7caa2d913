using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Capa.TestModels;

namespace Capa.Bench;

/// <summary>Generates the model, runs every configuration in child processes (interleaved), writes the results table.</summary>
internal static class Parent
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        if (options.JsonMode)
        {
            return await JsonModeBench.RunParentAsync(options);
        }

        var dir = Path.GetFullPath(Path.Combine(options.ModelsDirectory, "qwen2-0.5b"));
        EnsureModel(dir, options.Quants);

        var results = new List<Measurement>();
        for (var round = 0; round < options.Rounds; round++)
        {
            foreach (var quant in options.Quants)
            {
                results.Add(await RunChildAsync(dir, quant, options));
                Console.Error.WriteLine($"round {round + 1}: capa {quant}: {results[^1]}");
                if (options.TransformersJs)
                {
                    var js = await RunTransformersJsAsync(dir, quant, options);
                    if (js is not null)
                    {
                        results.Add(js);
                        Console.Error.WriteLine($"round {round + 1}: transformers.js {quant}: {js}");
                    }
                }
            }
        }

        var bandwidth = double.Parse(await RunAsync(Environment.ProcessPath!, DotnetArgs("--bandwidth")), CultureInfo.InvariantCulture);
        var report = Report(options, dir, results, bandwidth);
        Console.WriteLine(report);
        File.WriteAllText(options.Output, report);
        return 0;
    }

    internal static void EnsureModel(string dir, IReadOnlyList<string> quants)
    {
        var missing = quants.Select(TestModelSpec.ParseQuant)
            .Where(q => !File.Exists(Path.Combine(dir, "onnx", TestModelSpec.OnnxFileName(q))))
            .ToList();
        if (missing.Count == 0)
        {
            return;
        }

        Console.Error.WriteLine($"Writing testmodel qwen2 0.5b ({string.Join(", ", missing)}) to {dir} ...");
        var sw = Stopwatch.StartNew();
        var all = quants.Select(TestModelSpec.ParseQuant).ToList();
        TestModelWriter.Write(new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.HalfB, Quants = all, Seed = 1 }, dir);
        Console.Error.WriteLine($"... done in {sw.Elapsed.TotalSeconds:F0} s");
    }

    internal static string[] DotnetArgs(params string[] args) =>
        Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? [typeof(Parent).Assembly.Location, .. args] : args;

    private static async Task<Measurement> RunChildAsync(string dir, string quant, BenchOptions o)
    {
        var output = await RunAsync(Environment.ProcessPath!, DotnetArgs("--child", dir, quant,
            o.PromptTokens.ToString(CultureInfo.InvariantCulture), o.DecodeTokens.ToString(CultureInfo.InvariantCulture), o.Threads.ToString(CultureInfo.InvariantCulture)));
        return JsonSerializer.Deserialize<Measurement>(output.Trim().Split('\n')[^1])!;
    }

    private static async Task<Measurement?> RunTransformersJsAsync(string dir, string quant, BenchOptions o)
    {
        var script = Path.GetFullPath("bench/transformers-js.mjs");
        try
        {
            var output = await RunAsync("node", [script, dir, quant, o.PromptTokens.ToString(CultureInfo.InvariantCulture), o.DecodeTokens.ToString(CultureInfo.InvariantCulture)]);
            return JsonSerializer.Deserialize<Measurement>(output.Trim().Split('\n')[^1]);
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine($"transformers.js {quant} failed: {ex.Message}");
            return null;
        }
    }

    internal static async Task<string> RunAsync(string file, IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} exited with {process.ExitCode}: {(await stderr).Trim()}");
        }

        return await stdout;
    }

    private static string Report(BenchOptions o, string dir, List<Measurement> results, double bandwidthGBs)
    {
        static string Range(IEnumerable<double> values, string format)
        {
            var v = values.Order().ToArray();
            var median = v.Length % 2 == 1 ? v[v.Length / 2] : (v[(v.Length / 2) - 1] + v[v.Length / 2]) / 2;
            return v.Length == 1
                ? median.ToString(format, CultureInfo.InvariantCulture)
                : $"{median.ToString(format, CultureInfo.InvariantCulture)} ({v[0].ToString(format, CultureInfo.InvariantCulture)}–{v[^1].ToString(format, CultureInfo.InvariantCulture)})";
        }

        static double Median(IEnumerable<double> values)
        {
            var v = values.Order().ToArray();
            return v.Length % 2 == 1 ? v[v.Length / 2] : (v[(v.Length / 2) - 1] + v[v.Length / 2]) / 2;
        }

        var sb = new StringBuilder();
        sb.AppendLine("# Decode benchmark");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"`capa testmodel --arch qwen2 --size 0.5b` (Qwen2.5-0.5B shapes, random weights), {o.PromptTokens}-token prompt, {o.DecodeTokens} greedy tokens, " +
            $"{o.Threads} intra-op threads, {Environment.ProcessorCount} cores, {o.Rounds} interleaved rounds per configuration, each in its own process. " +
            $"Median (min–max). Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC with `dotnet run -c Release --project bench/Capa.Bench -- {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}`.");
        sb.AppendLine();
        sb.AppendLine("| runtime | quant | weights MiB | prefill tok/s | decode tok/s | TTFT ms | peak RSS MiB | RSS / (weights + KV) | decode / bandwidth bound |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var group in results.GroupBy(r => (r.Runtime, r.Quant)))
        {
            var weights = WeightBytes(dir, group.Key.Quant);
            // KV cache at the end of the run: 24 layers × 2 (k, v) × 2 heads × 64 dims × 4 bytes per token.
            var kvBytes = 24L * 2 * 2 * 64 * 4 * (o.PromptTokens + o.DecodeTokens);
            var bound = bandwidthGBs * 1e9 / weights;
            var decode = Median(group.Select(r => r.DecodeTokPerSec));
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {group.Key.Runtime} | {group.Key.Quant} | {weights / 1048576.0:F0} | {Range(group.Select(r => r.PrefillTokPerSec), "F1")} | {Range(group.Select(r => r.DecodeTokPerSec), "F2")} | " +
                $"{Range(group.Select(r => r.TtftMs), "F0")} | {Range(group.Select(r => r.PeakRssMiB), "F0")} | {Median(group.Select(r => r.PeakRssMiB)) * 1048576.0 / (weights + kvBytes):F2} | {decode / bound:P0} |");
        }

        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Memory read bandwidth measured in the same run: {bandwidthGBs:F1} GB/s (best of 5 passes over 1 GiB, all cores). The bandwidth bound of decode is that bandwidth over the bytes of the ONNX weights file (every weight is read once per token).");
        var js = results.Where(r => r.Runtime == "transformers.js").ToList();
        if (js.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("| quant | decode capa / transformers.js | TTFT capa / transformers.js | prefill capa / transformers.js |");
            sb.AppendLine("|---|---:|---:|---:|");
            foreach (var quant in o.Quants)
            {
                var c = results.Where(r => r.Runtime == "capa" && r.Quant == quant).ToList();
                var t = js.Where(r => r.Quant == quant).ToList();
                if (c.Count > 0 && t.Count > 0)
                {
                    sb.AppendLine(CultureInfo.InvariantCulture,
                        $"| {quant} | {Median(c.Select(r => r.DecodeTokPerSec)) / Median(t.Select(r => r.DecodeTokPerSec)):F2}× | {Median(c.Select(r => r.TtftMs)) / Median(t.Select(r => r.TtftMs)):F2}× | {Median(c.Select(r => r.PrefillTokPerSec)) / Median(t.Select(r => r.PrefillTokPerSec)):F2}× |");
                }
            }
        }

        return sb.ToString();
    }

    private static long WeightBytes(string dir, string quant)
    {
        var name = TestModelSpec.OnnxFileName(TestModelSpec.ParseQuant(quant));
        return Directory.GetFiles(Path.Combine(dir, "onnx")).Where(f => Path.GetFileName(f).StartsWith(name, StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);
    }
}
