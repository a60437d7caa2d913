// Text to speech with espeak-ng: time to first audio byte and real-time factor through Capa's server, beside
// espeak-ng itself on the same text in the same run.
// Usage: dotnet run -c Release --project bench/Capa.Speech.Bench [-- <output.md> [repetitions]]
//        dotnet run -c Release --project bench/Capa.Speech.Bench -- neural KOKORO_DIR PIPER_DIR [output.md] [repetitions]
//        (neural voices beside kokoro-js: see bench/speech-neural.sh, which writes the voices first)
// Each case is run interleaved (Capa pcm, Capa mp3, espeak-ng alone, then again) and reported as medians and ranges.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Capa.Media.Processes;
using Capa.Server.Hosting;
using Microsoft.Extensions.Logging;

string repo = AppContext.BaseDirectory;
while (!File.Exists(Path.Combine(repo, "Capa.slnx")))
{
    repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("Run from inside the repository.");
}

if (args.Length > 0 && args[0] == "neural")
{
    await NeuralBench.RunAsync(repo, args[1..]);
    return;
}

if (!ExecutableLocator.TryFind("espeak-ng", out var espeak) || !ExecutableLocator.TryFind("ffmpeg", out _))
{
    Console.WriteLine("Skipped: espeak-ng and ffmpeg are needed (apt-get install espeak-ng ffmpeg).");
    return;
}

string output = args.Length > 0 ? args[0] : Path.Combine(repo, "bench", "RESULTS-speech.md");
int repetitions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;

string[] corpus =
[
    "The quick brown fox jumps over the lazy dog.",
    "It was a bright cold day in April, and the clocks were striking thirteen.",
    "你好，世界。",
    "Speech synthesis turns written text into sound that people can hear.",
    "Please remember to bring your umbrella tomorrow morning.",
];
string Text(int sentences) => string.Join(" ", Enumerable.Range(0, sentences).Select(i => corpus[i % corpus.Length]));

var app = CapaServer.Build(
    new CapaServerOptions { Urls = ["http://127.0.0.1:0"], GetEnvironmentVariable = _ => null },
    builder => builder.Logging.ClearProviders());
await app.StartAsync();
var baseUrl = CapaServer.GetAddresses(app).First().TrimEnd('/');
using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(5) };

async Task<(double FirstByteMs, double TotalMs, long Bytes)> CapaAsync(string text, string format)
{
    var body = $$"""{"model":"tts-1","voice":"alloy","response_format":"{{format}}","input":{{System.Text.Json.JsonSerializer.Serialize(text)}}}""";
    var sw = Stopwatch.StartNew();
    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/audio/speech") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    response.EnsureSuccessStatusCode();
    await using var stream = await response.Content.ReadAsStreamAsync();
    var buffer = new byte[65536];
    double first = -1;
    long bytes = 0;
    int read;
    while ((read = await stream.ReadAsync(buffer)) > 0)
    {
        if (first < 0)
        {
            first = sw.Elapsed.TotalMilliseconds;
        }

        bytes += read;
    }

    return (first, sw.Elapsed.TotalMilliseconds, bytes);
}

async Task<(double FirstByteMs, double TotalMs, long Bytes)> EspeakAsync(string text)
{
    var sw = Stopwatch.StartNew();
    double first = -1;
    long bytes = 0;
    var input = Encoding.UTF8.GetBytes(text);
    await MediaProcess.RunAsync(
        espeak,
        ["-b", "1", "-v", "en-us+f3", "--stdout", "--stdin"],
        (stdin, ct) => stdin.WriteAsync(input, ct).AsTask(),
        (chunk, _) =>
        {
            if (first < 0)
            {
                first = sw.Elapsed.TotalMilliseconds;
            }

            bytes += chunk.Length;
            return ValueTask.CompletedTask;
        },
        MediaProcessLimits.Default,
        CancellationToken.None);
    return (first, sw.Elapsed.TotalMilliseconds, bytes);
}

// Warm up: the first request starts ffmpeg and JIT-compiles the server's paths.
await CapaAsync(Text(1), "mp3");
await CapaAsync(Text(1), "pcm");

var rows = new List<string>();
foreach (var sentences in new[] { 1, 5, 20 })
{
    var text = Text(sentences);
    var results = new Dictionary<string, List<(double First, double Total, long Bytes)>> { ["capa pcm"] = [], ["capa mp3"] = [], ["espeak-ng alone"] = [] };
    for (var r = 0; r < repetitions; r++)
    {
        results["capa pcm"].Add(await CapaAsync(text, "pcm"));
        results["capa mp3"].Add(await CapaAsync(text, "mp3"));
        results["espeak-ng alone"].Add(await EspeakAsync(text));
    }

    // Audio length from Capa's pcm (24 kHz, 16-bit); espeak-ng alone is 22,050 Hz WAV with the same speech.
    var audioSeconds = results["capa pcm"][0].Bytes / 48_000.0;
    foreach (var (name, list) in results)
    {
        var firsts = list.Select(x => x.First).Order().ToList();
        var totals = list.Select(x => x.Total).Order().ToList();
        var seconds = name == "espeak-ng alone" ? (list[0].Bytes - 44) / 44_100.0 : audioSeconds;
        rows.Add(string.Create(CultureInfo.InvariantCulture,
            $"| {sentences} | {name} | {seconds:F1} | {Median(firsts):F0} ({firsts[0]:F0}–{firsts[^1]:F0}) | {Median(totals):F0} ({totals[0]:F0}–{totals[^1]:F0}) | {Median(totals) / 1000 / seconds:F3} |"));
        Console.WriteLine(rows[^1]);
    }
}

await app.StopAsync();
await app.DisposeAsync();

static double Median(List<double> sorted) => sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
var version = Environment.Version;
var report = new StringBuilder();
report.AppendLine("# Text to speech: espeak-ng through Capa");
report.AppendLine();
report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Measured {DateTime.UtcNow:yyyy-MM-dd} by `dotnet run -c Release --project bench/Capa.Speech.Bench` on {Environment.ProcessorCount} logical CPUs (.NET {version}), {repetitions} interleaved repetitions per case, voice `alloy` (espeak-ng `en-us+f3`, the Chinese sentence in `cmn+f3`)."));
report.AppendLine();
report.AppendLine("`capa pcm` / `capa mp3`: `POST /v1/audio/speech` on a local server (HTTP on 127.0.0.1, the body read as it streams);");
report.AppendLine("first byte is the time from sending the request to the first audio byte received. `espeak-ng alone`: one espeak-ng");
report.AppendLine("process on the whole text (WAV to a pipe; it reads the Chinese sentence with the English voice, hence its");
report.AppendLine("longer audio), the peer. Real-time factor = total time / audio duration (lower is faster).");
report.AppendLine("Medians, with the range in parentheses, in milliseconds.");
report.AppendLine();
report.AppendLine("| sentences | path | audio s | first byte ms | total ms | real-time factor |");
report.AppendLine("|---|---|---|---|---|---|");
foreach (var row in rows)
{
    report.AppendLine(row);
}

report.AppendLine();
report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Load average at the end of the run: {load} (the machine is shared)."));
report.Append(Narrative);
// The neural voices' section comes from its own run (bench/speech-neural.sh): keep it.
var neural = NeuralBench.ExistingSection(output);
await File.WriteAllTextAsync(output, neural.Length == 0 ? report.ToString() : NeuralBench.WithSection(report.ToString(), neural));
Console.WriteLine($"Wrote {output}");

internal partial class Program
{
    private const string Narrative = """

        Reading the table: the first audio byte comes after the first sentence is spoken, whatever the length of the text
        (espeak-ng streams its samples, and the next language's espeak-ng run starts while the current one is read).
        pcm is the shortest path (espeak-ng, resampling to 24 kHz, the HTTP response); mp3 adds an ffmpeg that was started
        ahead of time (a spare per format), so the stream does not wait the 0.4 to 0.6 s ffmpeg takes to load on this
        machine. Capa's total time is several times espeak-ng's own because each change of language is a new espeak-ng
        process and every byte crosses the resampler, the encoder and HTTP; all of it stays far below real time (a real-time
        factor of 0.02 is 50 times faster than playback). The machine was shared and heavily loaded during the run (see the
        load average), so single figures vary by a factor of two or more between runs: judge by medians and ratios.

        """;
}
