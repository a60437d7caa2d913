using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Capa.TestModels.Whisper;
using Capa.Engine.Whisper;

// Real-time factor and peak memory of Whisper transcription: Capa against transformers.js' automatic-speech-recognition
// pipeline on the same random-weight folders and audio, each run in its own process, interleaved (A B A B).
//
//   capa-whisper-bench [--runs 2] [--out bench/RESULTS-transcription.md] [--sizes tiny-real-shapes,base-real-shapes] [--seconds 30,300]
//   capa-whisper-bench --child capa|js MODEL AUDIO.f32      (one measurement; prints "seconds peak_rss_bytes")
//
// Both sides do the same work: 30-second windows, greedy, English, no timestamps, up to 224 tokens per window, no
// temperature fallback (transformers.js has none).
if (args.Length > 0 && args[0] == "--child")
{
    return args[1] == "capa" ? RunCapa(args[2], args[3]) : throw new ArgumentException("--child capa only; transformers.js runs under node");
}

var options = Options.Parse(args);
string root = FindRoot();
string work = Path.Combine(Path.GetTempPath(), "capa-whisper-bench");
Directory.CreateDirectory(work);
var rows = new List<string>();
foreach (string size in options.Sizes)
{
    string model = Path.Combine(work, size);
    if (!File.Exists(Path.Combine(model, "config.json")))
    {
        WhisperTestModelWriter.Write(new WhisperTestModelSpec { Size = WhisperTestModelSpec.ParseSize(size) }, model);
    }

    foreach (int seconds in options.Seconds)
    {
        string audio = Path.Combine(work, $"audio-{seconds}.f32");
        if (!File.Exists(audio))
        {
            File.WriteAllBytes(audio, MemoryMarshal.AsBytes(Signal(seconds).AsSpan()).ToArray());
        }

        var capa = new List<(double Seconds, long Rss)>();
        var js = new List<(double Seconds, long Rss)>();
        for (int run = 0; run < options.Runs; run++)
        {
            capa.Add(Child(Environment.ProcessPath!, [typeof(Options).Assembly.Location, "--child", "capa", model, audio], root));
            js.Add(Child("node", [Path.Combine(root, "bench", "whisper-transformers-js.mjs"), model, audio], Path.Combine(root, "tests", "oracle")));
        }

        double capaRtf = Median(capa.Select(c => c.Seconds)) / seconds, jsRtf = Median(js.Select(c => c.Seconds)) / seconds;
        string row = string.Create(CultureInfo.InvariantCulture,
            $"| {size} | {seconds} s | {capaRtf:F3} ({Range(capa, seconds)}) | {jsRtf:F3} ({Range(js, seconds)}) | {jsRtf / capaRtf:F2}x | {Median(capa.Select(c => (double)c.Rss)) / 1048576:F0} | {Median(js.Select(c => (double)c.Rss)) / 1048576:F0} |");
        Console.WriteLine(row);
        rows.Add(row);
    }
}

var report = new StringBuilder();
report.AppendLine("# Transcription benchmark");
report.AppendLine();
report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"`dotnet run -c Release --project bench/Capa.Whisper.Bench -- --runs {options.Runs}` on {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC."));
report.AppendLine("Random-weight Whisper folders from `capa testmodel --arch whisper` (fp32), synthetic audio; both sides decode 30-second windows");
report.AppendLine("greedily in English without timestamps, up to 224 tokens per window, with no temperature fallback. Each measurement is its own");
report.AppendLine("process (model load included); runs interleaved, medians with [min–max]. Real-time factor = processing seconds / audio seconds");
report.AppendLine("(lower is better); speed-up = transformers.js RTF / Capa RTF.");
report.AppendLine();
report.AppendLine("| shapes | audio | Capa RTF | transformers.js RTF | speed-up | Capa peak RSS (MiB) | transformers.js peak RSS (MiB) |");
report.AppendLine("|---|---|---|---|---|---|---|");
foreach (string row in rows)
{
    report.AppendLine(row);
}

File.WriteAllText(Path.Combine(root, options.Out), report.ToString());
return 0;

static int RunCapa(string model, string audioPath)
{
    var clock = Stopwatch.StartNew();
    float[] samples = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(audioPath)).ToArray();
    using var sessions = WhisperOnnxModel.Load(WhisperModelFolder.Load(model), new WhisperOnnxOptions { IntraOpThreads = Environment.ProcessorCount });
    var transcriber = new WhisperTranscriber(sessions);
    transcriber.Transcribe(samples, new WhisperTranscriptionOptions
    {
        Language = "en",
        Timestamps = false,
        CompressionRatioThreshold = double.PositiveInfinity,
        LogprobThreshold = double.NegativeInfinity,
        NoSpeechThreshold = double.PositiveInfinity,
        ConditionOnPreviousText = false,
    });
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed.TotalSeconds} {Process.GetCurrentProcess().PeakWorkingSet64}"));
    return 0;
}

static (double Seconds, long Rss) Child(string file, string[] arguments, string directory)
{
    var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = directory };
    foreach (string a in arguments)
    {
        start.ArgumentList.Add(a);
    }

    using var process = Process.Start(start)!;
    string output = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"{file} failed ({process.ExitCode}).");
    }

    string[] parts = output.Trim().Split('\n')[^1].Split(' ');
    return (double.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
}

static double Median(IEnumerable<double> values)
{
    double[] sorted = [.. values.Order()];
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

static string Range(List<(double Seconds, long Rss)> runs, int seconds) =>
    string.Create(CultureInfo.InvariantCulture, $"{runs.Min(r => r.Seconds) / seconds:F3}–{runs.Max(r => r.Seconds) / seconds:F3}");

static float[] Signal(int seconds)
{
    var samples = new float[seconds * 16000];
    ulong state = 99;
    for (int i = 0; i < samples.Length; i++)
    {
        double t = i / 16000.0;
        state = (state * 6364136223846793005UL) + 1442695040888963407UL;
        samples[i] = (float)((0.3 * Math.Sin(2 * Math.PI * (200 + (300 * (t % 3))) * t) * Math.Max(0, Math.Sin(t * 2))) + (0.02 * (((state >> 40) / (double)(1UL << 24)) - 0.5)));
    }

    return samples;
}

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Capa.slnx")))
        {
            return dir.FullName;
        }
    }

    throw new InvalidOperationException("Run from inside the repository.");
}

internal sealed record Options(int Runs, string Out, string[] Sizes, int[] Seconds)
{
    public static Options Parse(string[] args)
    {
        var o = new Options(2, "bench/RESULTS-transcription.md", ["tiny-real-shapes", "base-real-shapes"], [30, 300]);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            o = args[i] switch
            {
                "--runs" => o with { Runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--out" => o with { Out = args[i + 1] },
                "--sizes" => o with { Sizes = args[i + 1].Split(',') },
                "--seconds" => o with { Seconds = [.. args[i + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))] },
                _ => throw new ArgumentException($"Unknown option {args[i]}"),
            };
        }

        return o;
    }
}
