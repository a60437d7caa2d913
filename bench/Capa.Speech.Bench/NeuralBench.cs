using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Capa.Server.Audio;
using Capa.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

/// <summary>
/// Neural voices through Capa's server (Kokoro-82M's shapes and a Piper medium voice's, random weights), beside
/// kokoro-js on the same Kokoro folder and texts in the same run: time to first audio byte and real-time factor.
/// </summary>
internal static class NeuralBench
{
    private const string Heading = "## Neural voices";

    // English only: kokoro-js reads everything with its English voices, and Piper's test voice is en-us.
    private static readonly string[] Corpus =
    [
        "The quick brown fox jumps over the lazy dog.",
        "It was a bright cold day in April, and the clocks were striking thirteen.",
        "Speech synthesis turns written text into sound that people can hear.",
        "Please remember to bring your umbrella tomorrow morning.",
        "The museum opens at nine and closes late on Fridays.",
    ];

    public static async Task RunAsync(string repo, string[] args)
    {
        if (args.Length < 2)
        {
            Console.WriteLine("Usage: neural KOKORO_DIR PIPER_DIR [output.md] [repetitions]");
            return;
        }

        string kokoro = Path.GetFullPath(args[0]);
        string piper = Path.GetFullPath(args[1]);
        string output = args.Length > 2 ? args[2] : Path.Combine(repo, "bench", "RESULTS-speech.md");
        int repetitions = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3;
        string kokoroId = Path.GetFileName(kokoro);
        string piperId = Path.GetFileName(piper);
        string piperVoice = Path.GetFileNameWithoutExtension(Directory.EnumerateFiles(piper, "*.onnx").First());

        var app = CapaServer.Build(
            new CapaServerOptions { Urls = ["http://127.0.0.1:0"], GetEnvironmentVariable = _ => null },
            builder =>
            {
                builder.Logging.ClearProviders();
                builder.Services.AddSingleton(new SpeechOptions { VoiceDirectories = [kokoro, piper] });
            });
        await app.StartAsync();
        var baseUrl = CapaServer.GetAddresses(app).First().TrimEnd('/');
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(10) };

        async Task<Sample> CapaAsync(string model, string voice, string text)
        {
            var body = JsonSerializer.Serialize(new Dictionary<string, string> { ["model"] = model, ["voice"] = voice, ["response_format"] = "pcm", ["input"] = text });
            var sw = Stopwatch.StartNew();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/audio/speech") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{model}/{voice}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }

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

            return new Sample(first, sw.Elapsed.TotalMilliseconds, bytes / 48_000.0);
        }

        using var peer = KokoroJs.Start(repo, kokoro, "af_heart");

        // Warm up: JIT, the first espeak-ng runs, ONNX Runtime's first allocations.
        await CapaAsync(kokoroId, "af_heart", "Warming up.");
        await CapaAsync(piperId, piperVoice, "Warming up.");

        string[] paths = ["capa kokoro", "kokoro-js", "capa piper"];
        var rows = new List<string>();
        var ratios = new List<string>();
        foreach (var sentences in new[] { 1, 5, 20 })
        {
            var text = string.Join(" ", Enumerable.Range(0, sentences).Select(i => Corpus[i % Corpus.Length]));
            var results = paths.ToDictionary(p => p, _ => new List<Sample>());
            for (var r = 0; r < repetitions; r++)
            {
                results["capa kokoro"].Add(await CapaAsync(kokoroId, "af_heart", text));
                results["kokoro-js"].Add(await peer.SpeakAsync(text));
                results["capa piper"].Add(await CapaAsync(piperId, piperVoice, text));
            }

            foreach (var path in paths)
            {
                var list = results[path];
                var firsts = list.Select(x => x.FirstMs).Order().ToList();
                var totals = list.Select(x => x.TotalMs).Order().ToList();
                var seconds = list[0].AudioSeconds;
                rows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {sentences} | {path} | {seconds:F1} | {Median(firsts):F0} ({firsts[0]:F0}–{firsts[^1]:F0}) | {Median(totals):F0} ({totals[0]:F0}–{totals[^1]:F0}) | {Median(totals) / 1000 / seconds:F3} |"));
                Console.WriteLine(rows[^1]);
            }

            double capaTotal = Median([.. results["capa kokoro"].Select(x => x.TotalMs).Order()]);
            double peerTotal = Median([.. results["kokoro-js"].Select(x => x.TotalMs).Order()]);
            double capaFirst = Median([.. results["capa kokoro"].Select(x => x.FirstMs).Order()]);
            double peerFirst = Median([.. results["kokoro-js"].Select(x => x.FirstMs).Order()]);
            ratios.Add(string.Create(CultureInfo.InvariantCulture, $"| {sentences} | {peerTotal / capaTotal:F2}× | {peerFirst / capaFirst:F2}× |"));
            Console.WriteLine(ratios[^1]);
        }

        await app.StopAsync();
        await app.DisposeAsync();

        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
        var section = new StringBuilder();
        section.AppendLine(Heading);
        section.AppendLine();
        section.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Measured {DateTime.UtcNow:yyyy-MM-dd} by `bench/speech-neural.sh` on {Environment.ProcessorCount} logical CPUs (.NET {Environment.Version}), {repetitions} interleaved repetitions per case (Capa Kokoro, kokoro-js, Capa Piper, then again)."));
        section.AppendLine();
        section.AppendLine("Voices with random weights written by `capa testmodel --size real-shapes`: `--arch kokoro` has Kokoro-82M's layers and");
        section.AppendLine("widths (ALBERT, prosody LSTMs, AdaIN decoder, iSTFTNet generator; 310 MiB like onnx-community's `model.onnx`),");
        section.AppendLine("`--arch piper` a Piper medium voice's (VITS: transformer encoder, WaveNet flow, HiFi-GAN; 59 MiB, 22,050 Hz).");
        section.AppendLine("Both give each phoneme a fixed duration, so the audio lengths are not a trained voice's. `capa`: `POST /v1/audio/speech`");
        section.AppendLine("with `response_format: pcm` on a local server (127.0.0.1), the body read as it streams, the voice `af_heart` for Kokoro;");
        section.AppendLine("first byte is from sending the request to the first audio byte. `kokoro-js`: kokoro-js 1.2.1 (ONNX Runtime for Node) on the");
        section.AppendLine("same folder and text, its own sentence stream (`tts.stream`), timed inside the Node process from the call to the first");
        section.AppendLine("and last chunk (no HTTP). Real-time factor = total time / audio duration (lower is faster). Medians, range in parentheses, ms.");
        section.AppendLine();
        section.AppendLine("| sentences | path | audio s | first byte ms | total ms | real-time factor |");
        section.AppendLine("|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            section.AppendLine(row);
        }

        section.AppendLine();
        section.AppendLine("Capa's Kokoro against kokoro-js (kokoro-js time / Capa time; above 1 is Capa faster):");
        section.AppendLine();
        section.AppendLine("| sentences | total | first audio |");
        section.AppendLine("|---|---|---|");
        foreach (var ratio in ratios)
        {
            section.AppendLine(ratio);
        }

        section.AppendLine();
        section.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Load average at the end of the run: {load} (the machine is shared)."));
        await File.WriteAllTextAsync(output, WithSection(File.Exists(output) ? await File.ReadAllTextAsync(output) : "", section.ToString()));
        Console.WriteLine($"Wrote {output}");
    }

    /// <summary>The report with its neural section replaced (or appended).</summary>
    public static string WithSection(string report, string section)
    {
        var at = report.IndexOf("\n" + Heading, StringComparison.Ordinal);
        var head = (at < 0 ? report : report[..at]).TrimEnd();
        return (head.Length == 0 ? "" : head + "\n\n") + section.TrimEnd() + "\n";
    }

    /// <summary>The neural section of an existing report, to keep when the espeak-ng table is rewritten.</summary>
    public static string ExistingSection(string path)
    {
        if (!File.Exists(path))
        {
            return "";
        }

        var report = File.ReadAllText(path);
        var at = report.IndexOf("\n" + Heading, StringComparison.Ordinal);
        return at < 0 ? "" : report[(at + 1)..];
    }

    private static double Median(List<double> sorted) => sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

    private sealed record Sample(double FirstMs, double TotalMs, double AudioSeconds);

    /// <summary>bench/kokoro-js.mjs, started once (its model load is not timed), one request per line.</summary>
    private sealed class KokoroJs : IDisposable
    {
        private readonly Process _process;

        private KokoroJs(Process process) => _process = process;

        public static KokoroJs Start(string repo, string model, string voice)
        {
            var start = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            start.ArgumentList.Add(Path.Combine(repo, "bench", "kokoro-js.mjs"));
            start.ArgumentList.Add(model);
            start.ArgumentList.Add(voice);
            var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
            var ready = process.StandardOutput.ReadLine();
            if (ready is null || !ready.Contains("ready", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("kokoro-js did not start: " + ready);
            }

            return new KokoroJs(process);
        }

        public async Task<Sample> SpeakAsync(string text)
        {
            await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["text"] = text }));
            await _process.StandardInput.FlushAsync();
            var line = await _process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("kokoro-js stopped.");
            var json = JsonDocument.Parse(line).RootElement;
            return new Sample(json.GetProperty("first_ms").GetDouble(), json.GetProperty("total_ms").GetDouble(), json.GetProperty("samples").GetDouble() / 24_000.0);
        }

        public void Dispose()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(10_000))
            {
                _process.Kill();
            }

            _process.Dispose();
        }
    }
}
