using System.ClientModel;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Capa.Cli.Repro;
using OpenAI.Audio;

namespace Capa.Cli.Commands;

/// <summary>
/// <c>capa transcribe FILE</c>: sends an audio file to <c>/v1/audio/transcriptions</c> (or <c>/translations</c> with
/// <c>--translate</c>) through the OpenAI SDK and prints the result in the chosen format.
/// </summary>
internal static class TranscribeCommand
{
    private static readonly string[] Formats = ["text", "json", "verbose_json", "srt", "vtt"];

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The audio file (flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm)." };
        var translate = new Option<bool>("--translate") { Description = "Translate into English instead of transcribing." };
        var language = new Option<string?>("--language", "-l") { Description = "The audio's language, ISO-639-1 (en, zh, de, …); detected when absent." };
        var format = new Option<string>("--format", "-f")
        {
            Description = "Output: text, json, verbose_json, srt or vtt.",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong(Formats);
        var timestamps = new Option<string?>("--timestamps") { Description = "word: word timestamps (verbose_json; needs a model exported with cross-attentions)." };
        timestamps.AcceptOnlyFromAmong("word", "segment");
        var prompt = new Option<string?>("--prompt") { Description = "Text that precedes the audio (names, spelling, style)." };
        var temperature = new Option<float?>("--temperature") { Description = "0 to 1 (default 0: greedy, with fallback)." };
        var model = new Option<string>("--model", "-m") { Description = "Model id or alias.", DefaultValueFactory = _ => "whisper-1" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the result to this file instead of standard output." };
        var baseUrl = ClientConnection.BaseUrlOption();
        var apiKey = ClientConnection.ApiKeyOption();
        var command = new Command("transcribe", "Transcribe (or translate) an audio file with a Whisper model on the server.")
        {
            file, translate, language, format, timestamps, prompt, temperature, model, output, baseUrl, apiKey,
        };
        command.SetAction((parse, ct) => CliRunner.RunAsync(async () =>
        {
            string path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                throw new CliException($"'{path}' does not exist.");
            }

            var connection = ClientConnection.Resolve(parse.GetValue(baseUrl), parse.GetValue(apiKey));
            AudioClient client = connection.CreateClient().GetAudioClient(parse.GetValue(model)!);
            string chosen = parse.GetValue(format)!;
            bool words = parse.GetValue(timestamps) == "word";
            if (words && chosen != "verbose_json")
            {
                throw new CliException("--timestamps word needs --format verbose_json.");
            }

            long size = new FileInfo(path).Length;
            using var progress = new ElapsedProgress(Path.GetFileName(path), size);
            string result = await EndpointErrors.CallAsync(connection.BaseUrl, () => parse.GetValue(translate)
                ? TranslateAsync(client, path, chosen, parse.GetValue(prompt), parse.GetValue(temperature), ct)
                : TranscribeAsync(client, path, chosen, parse.GetValue(language), parse.GetValue(prompt), parse.GetValue(temperature), words, ct)).ConfigureAwait(false);
            progress.Done();
            if (parse.GetValue(output) is { Length: > 0 } target)
            {
                await File.WriteAllTextAsync(target, result, ct).ConfigureAwait(false);
            }
            else
            {
                parse.InvocationConfiguration.Output.Write(result.EndsWith('\n') ? result : result + "\n");
            }
        }));
        return command;
    }

    private static async Task<string> TranscribeAsync(AudioClient client, string path, string format, string? language, string? prompt, float? temperature, bool words, CancellationToken ct)
    {
        var options = new AudioTranscriptionOptions
        {
            ResponseFormat = format switch
            {
                "json" => AudioTranscriptionFormat.Simple,
                "verbose_json" => AudioTranscriptionFormat.Verbose,
                "srt" => AudioTranscriptionFormat.Srt,
                "vtt" => AudioTranscriptionFormat.Vtt,
                _ => AudioTranscriptionFormat.Text,
            },
            Language = language,
            Prompt = prompt,
            Temperature = temperature,
            TimestampGranularities = words ? AudioTimestampGranularities.Word | AudioTimestampGranularities.Segment : AudioTimestampGranularities.Default,
        };
        await using FileStream stream = File.OpenRead(path);
        ClientResult<AudioTranscription> result = await client.TranscribeAudioAsync(stream, Path.GetFileName(path), options, ct).ConfigureAwait(false);
        return Render(format, result.Value.Text, result.GetRawResponse().Content);
    }

    private static async Task<string> TranslateAsync(AudioClient client, string path, string format, string? prompt, float? temperature, CancellationToken ct)
    {
        var options = new AudioTranslationOptions
        {
            ResponseFormat = format switch
            {
                "json" => AudioTranslationFormat.Simple,
                "verbose_json" => AudioTranslationFormat.Verbose,
                "srt" => AudioTranslationFormat.Srt,
                "vtt" => AudioTranslationFormat.Vtt,
                _ => AudioTranslationFormat.Text,
            },
            Prompt = prompt,
            Temperature = temperature,
        };
        await using FileStream stream = File.OpenRead(path);
        ClientResult<AudioTranslation> result = await client.TranslateAudioAsync(stream, Path.GetFileName(path), options, ct).ConfigureAwait(false);
        return Render(format, result.Value.Text, result.GetRawResponse().Content);
    }

    /// <summary>JSON formats are printed as the server sent them (indented); the others are the text itself.</summary>
    private static string Render(string format, string text, BinaryData raw)
    {
        if (format is "json" or "verbose_json")
        {
            using JsonDocument document = JsonDocument.Parse(raw.ToMemory());
            return JsonSerializer.Serialize(document.RootElement, new JsonSerializerOptions
            {
                WriteIndented = true,
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            });
        }

        return text;
    }

    /// <summary>While the server works, standard error shows the file and the seconds elapsed (on a terminal only).</summary>
    private sealed class ElapsedProgress : IDisposable
    {
        private readonly Timer? _timer;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly string _name;
        private readonly long _bytes;
        private int _done;

        public ElapsedProgress(string name, long bytes)
        {
            _name = name;
            _bytes = bytes;
            if (!Console.IsErrorRedirected)
            {
                _timer = new Timer(_ => Show(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            }
        }

        public void Done()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0 && _timer is not null)
            {
                _timer.Dispose();
                Console.Error.Write("\r\u001b[K");
            }
        }

        public void Dispose() => Done();

        private void Show()
        {
            if (Volatile.Read(ref _done) == 0)
            {
                Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
                    $"\rTranscribing {_name} ({_bytes / 1048576.0:F1} MB): {_clock.Elapsed.TotalSeconds:F0} s"));
            }
        }
    }
}
