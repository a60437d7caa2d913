using System.Diagnostics.CodeAnalysis;
using Capa.Engine.Speech;
using Capa.Engine.Speech.Espeak;
using Capa.Media.Codecs;
using Capa.Media.Processes;
using Capa.Protocol;
using Capa.Protocol.Audio;

namespace Capa.Server.Audio;

/// <summary>
/// The local voices: espeak-ng (always there once installed), every OpenAI voice name mapped to one of them. Built at
/// start by <see cref="CreateAsync"/>, which finds espeak-ng and ffmpeg.
/// </summary>
internal sealed class LocalSpeechProvider : ISpeechProvider
{
    private const string LocalVoicePattern = "espeak-ng/LANGUAGE[+VARIANT]";

    private readonly EspeakInstallation _espeak;
    private readonly SpeechOptions _options;
    private readonly string? _ffmpegVersion;

    private LocalSpeechProvider(EspeakInstallation espeak, SpeechOptions options, string? ffmpegVersion)
    {
        _espeak = espeak;
        _options = options;
        _ffmpegVersion = ffmpegVersion;
    }

    public string Name => "local";

    public IReadOnlyList<string> Models => _options.Models;

    /// <summary>espeak-ng's version line.</summary>
    public string EspeakVersion => _espeak.Version;

    /// <summary>ffmpeg's version, or null when it is missing (then only wav and pcm can be served).</summary>
    public string? FfmpegVersion => _ffmpegVersion;

    /// <summary>Finds espeak-ng (required) and ffmpeg (optional).</summary>
    /// <returns>The provider, or the reason it cannot exist with an install hint.</returns>
    public static async Task<(LocalSpeechProvider? Provider, string? Error, string? Warning)> CreateAsync(SpeechOptions options, CancellationToken cancellationToken)
    {
        var (espeak, error) = await EspeakInstallation.TryDetectAsync(options.Espeak, cancellationToken).ConfigureAwait(false);
        if (espeak is null)
        {
            return (null, error, null);
        }

        var ffmpeg = await DetectFfmpegAsync(options.Ffmpeg, cancellationToken).ConfigureAwait(false);
        var warnings = new List<string>();
        if (ffmpeg is null)
        {
            warnings.Add($"ffmpeg was not found ('{options.Ffmpeg.Executable}'): speech is served as wav and pcm only. Install it with 'apt-get install ffmpeg' (Debian, Ubuntu) or 'brew install ffmpeg' (macOS).");
        }

        if (!espeak.HasLanguage(options.Espeak.DefaultLanguage))
        {
            return (null, $"espeak-ng has no language '{options.Espeak.DefaultLanguage}' (speech.language).", null);
        }

        foreach (var (name, voice) in options.VoiceMap)
        {
            if (!EspeakVoice.TryParseId(voice, espeak, out _))
            {
                warnings.Add($"the voice '{name}' maps to '{voice}', which is not a local voice: requests for '{name}' get 400.");
            }
        }

        return (new LocalSpeechProvider(espeak, options, ffmpeg), null, warnings.Count == 0 ? null : string.Join(" ", warnings));
    }

    public bool TryPrepare(SpeechRequest request, [NotNullWhen(true)] out ISpeechJob? job, [NotNullWhen(false)] out ApiError? error)
    {
        job = null;
        if (!AudioFormats.TryParse(request.ResponseFormat, out var format))
        {
            error = ApiError.InvalidRequest($"Invalid value: '{request.ResponseFormat}'.", "response_format", "invalid_value");
            return false;
        }

        if (!TryResolveVoice(request.Voice, out var voice))
        {
            error = request.Voice.CustomId is { } id
                ? ApiError.InvalidRequest($"Invalid value: '{Shorten(id)}'. No voice with this id exists: use one of OpenAI's voice names or a local voice id ({LocalVoicePattern}).", "voice.id", "invalid_value")
                : SpeechModels.UnknownVoice(request.Voice.Value, [EspeakVoice.AutoId, LocalVoicePattern]);
            return false;
        }

        if (format.NeedsFfmpeg() && _ffmpegVersion is null)
        {
            error = new ApiError(500, $"The server cannot encode '{format.Name()}' audio: its encoder is not installed. Ask for 'wav' or 'pcm'.", ApiError.ServerErrorType, "response_format", "encoder_unavailable");
            return false;
        }

        job = new Job(voice, new SpeechInput { Text = request.Input, Speed = request.Speed }, format, _options.Ffmpeg, VoiceFingerprint.Compute(voice, format, _ffmpegVersion));
        error = null;
        return true;
    }

    private bool TryResolveVoice(SpeechVoice requested, [NotNullWhen(true)] out EspeakVoice? voice)
    {
        var name = requested.Value;
        if (requested.Name is not null && _options.VoiceMap.TryGetValue(name, out var mapped))
        {
            name = mapped;
        }

        return EspeakVoice.TryParseId(name, _espeak, out voice);
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..61] + "...";

    private static async Task<string?> DetectFfmpegAsync(FfmpegOptions options, CancellationToken cancellationToken)
    {
        if (!ExecutableLocator.TryFind(options.Executable, out var path))
        {
            return null;
        }

        try
        {
            using var output = new MemoryStream();
            await MediaProcess.RunAsync(path, ["-hide_banner", "-version"], null, output, MediaProcessLimits.Default with { Timeout = TimeSpan.FromSeconds(15) }, cancellationToken).ConfigureAwait(false);
            var line = System.Text.Encoding.UTF8.GetString(output.ToArray()).Split('\n')[0].Trim();
            var copyright = line.IndexOf(" Copyright", StringComparison.Ordinal);
            return copyright > 0 ? line[..copyright] : line;
        }
        catch (MediaProcessException)
        {
            return null;
        }
    }

    private sealed class Job(EspeakVoice voice, SpeechInput input, AudioFormat format, FfmpegOptions ffmpeg, string fingerprint) : ISpeechJob
    {
        public AudioFormat Format => format;

        public string Fingerprint => fingerprint;

        public string VoiceId => voice.Id;

        public Task<SpeechRenderResult> RunAsync(Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> output, CancellationToken cancellationToken) =>
            SpeechRenderer.RenderAsync(voice, input, format, output, ffmpeg, cancellationToken);
    }
}
