using System.ClientModel;
using System.CommandLine;
using System.Globalization;
using Capa.Cli.Repro;
using Capa.Media.Codecs;
using Capa.Media.Processes;
using OpenAI.Audio;

namespace Capa.Cli.Commands;

/// <summary>
/// <c>capa speak "TEXT" -o FILE</c>: text to speech through the official OpenAI SDK (<c>/v1/audio/speech</c>), the
/// format taken from <c>--format</c> or else from the file's extension; <c>--play</c> plays it with ffplay or mpv.
/// </summary>
internal static class SpeakCommand
{
    public static Command Create()
    {
        var text = new Argument<string>("text") { Description = "The text to speak (up to 4096 characters)." };
        var output = new Option<string?>("--output", "-o") { Description = "File to write ('-' for standard output; default speech.FORMAT)." };
        var voice = new Option<string>("--voice")
        {
            Description = "alloy, ash, ballad, coral, echo, fable, onyx, nova, sage, shimmer, verse, marin, cedar, or a local voice id (espeak-ng/de).",
            DefaultValueFactory = _ => "alloy",
        };
        var format = new Option<string?>("--format", "-f") { Description = "mp3, opus, aac, flac, wav or pcm (default: from the file's extension, else mp3)." };
        var speed = new Option<double>("--speed")
        {
            Description = "0.25 to 4.0.",
            DefaultValueFactory = _ => 1.0,
        };
        var model = new Option<string>("--model", "-m")
        {
            Description = "Speech model id.",
            DefaultValueFactory = _ => "tts-1",
        };
        var play = new Option<bool>("--play") { Description = "Play the audio after writing it (needs ffplay or mpv)." };
        var baseUrl = ClientConnection.BaseUrlOption();
        var apiKey = ClientConnection.ApiKeyOption();

        var command = new Command("speak", "Turn text into speech and write it to a file.")
        {
            text, output, voice, format, speed, model, play, baseUrl, apiKey,
        };
        command.SetAction((parse, ct) => CliRunner.RunAsync(async () =>
        {
            var path = parse.GetValue(output);
            var chosen = ChooseFormat(parse.GetValue(format), path);
            path ??= "speech." + chosen.Extension();
            var connection = ClientConnection.Resolve(parse.GetValue(baseUrl), parse.GetValue(apiKey));
            var client = connection.CreateClient().GetAudioClient(parse.GetValue(model)!);
            var options = new SpeechGenerationOptions
            {
                ResponseFormat = new GeneratedSpeechFormat(chosen.Name()),
                SpeedRatio = (float)parse.GetValue(speed),
            };

            BinaryData audio = await EndpointErrors.CallAsync(
                connection.BaseUrl,
                async () => (await client.GenerateSpeechAsync(parse.GetValue(text)!, new GeneratedSpeechVoice(parse.GetValue(voice)!), options, ct).ConfigureAwait(false)).Value).ConfigureAwait(false);

            if (path == "-")
            {
                await using var stdout = Console.OpenStandardOutput();
                await stdout.WriteAsync(audio.ToMemory(), ct).ConfigureAwait(false);
                return;
            }

            await File.WriteAllBytesAsync(path, audio.ToArray(), ct).ConfigureAwait(false);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Wrote {path} ({chosen.Name()}, {audio.ToMemory().Length} bytes)."));
            if (parse.GetValue(play))
            {
                await PlayAsync(path, chosen, ct).ConfigureAwait(false);
            }
        }));
        return command;
    }

    /// <summary>The format from <c>--format</c>, else from the file's extension, else mp3.</summary>
    internal static AudioFormat ChooseFormat(string? format, string? path)
    {
        if (format is not null)
        {
            return AudioFormats.TryParse(format.ToLowerInvariant(), out var named)
                ? named
                : throw new CliException($"Unknown format '{format}': use one of {string.Join(", ", AudioFormats.Names)}.");
        }

        var extension = Path.GetExtension(path ?? "").TrimStart('.').ToLowerInvariant();
        return extension switch
        {
            "ogg" or "oga" => AudioFormat.Opus,
            "m4a" or "adts" => AudioFormat.Aac,
            "raw" => AudioFormat.Pcm,
            _ => AudioFormats.TryParse(extension, out var byExtension) ? byExtension : AudioFormat.Mp3,
        };
    }

    private static async Task PlayAsync(string path, AudioFormat format, CancellationToken ct)
    {
        List<string> rawPcm = format == AudioFormat.Pcm ? ["-f", "s16le", "-ar", "24000", "-ch_layout", "mono"] : [];
        (string Tool, List<string> Args)[] players =
        [
            ("ffplay", ["-nodisp", "-autoexit", "-loglevel", "error", .. rawPcm, path]),
            ("mpv", ["--no-video", "--really-quiet", .. format == AudioFormat.Pcm ? new[] { "--demuxer=rawaudio", "--demuxer-rawaudio-rate=24000", "--demuxer-rawaudio-channels=1" } : [], path]),
        ];
        foreach (var (tool, args) in players)
        {
            if (ExecutableLocator.TryFind(tool, out var found))
            {
                try
                {
                    await MediaProcess.RunAsync(found, args, null, Stream.Null, MediaProcessLimits.Default with { Timeout = TimeSpan.FromHours(1) }, ct).ConfigureAwait(false);
                }
                catch (MediaProcessException e)
                {
                    throw new CliException($"{tool} could not play {path}: {e.Message}");
                }

                return;
            }
        }

        throw new CliException("No audio player found: install ffmpeg (for ffplay) or mpv to use --play.");
    }
}
