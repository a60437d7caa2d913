using System.Diagnostics.CodeAnalysis;
using Capa.Engine.Speech;
using Capa.Engine.Speech.Espeak;
using Capa.Media.Codecs;
using Capa.Media.Processes;
using Capa.Protocol;
using Capa.Protocol.Audio;
using Capa.Server.Routing;

namespace Capa.Server.Audio;

/// <summary>
/// The local voices: espeak-ng (always there once installed) and the neural voice models found at start (Kokoro and
/// Piper, from the model store and <see cref="SpeechOptions.VoiceDirectories"/>). OpenAI's voice names map to a
/// neural voice when one is installed (the configured table first, then <see cref="VoiceLibrary.KokoroVoiceMap"/>),
/// else to an espeak-ng variant. Built at start by <see cref="CreateAsync"/>, which finds espeak-ng and ffmpeg.
/// </summary>
internal sealed class LocalSpeechProvider : ISpeechProvider, IDisposable
{
    private const string LocalVoicePattern = "espeak-ng/LANGUAGE[+VARIANT]";

    private readonly EspeakInstallation _espeak;
    private readonly SpeechOptions _options;
    private readonly string? _ffmpegVersion;
    private readonly VoiceLibrary _library;
    private readonly IReadOnlyList<ProviderModel> _models;

    private LocalSpeechProvider(EspeakInstallation espeak, SpeechOptions options, string? ffmpegVersion, VoiceLibrary library)
    {
        _espeak = espeak;
        _options = options;
        _ffmpegVersion = ffmpegVersion;
        _library = library;
        _models = [.. options.Models.Concat(library.Models.Select(m => m.Id)).Distinct(StringComparer.Ordinal).Select(id => new ProviderModel(id, ModelCapabilities.Speech))];
    }

    public string Name => "local";

    /// <summary>espeak-ng's version line.</summary>
    public string EspeakVersion => _espeak.Version;

    /// <summary>ffmpeg's version, or null when it is missing (then only wav and pcm can be served).</summary>
    public string? FfmpegVersion => _ffmpegVersion;

    /// <summary>The neural voice models loaded.</summary>
    public IReadOnlyList<VoiceModel> NeuralModels => _library.Models;

    public ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_models);

    /// <summary>Finds espeak-ng (required) and ffmpeg (optional), and loads the neural voices.</summary>
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

        var library = VoiceLibrary.Load(VoiceFolders(options, warnings), espeak, options.IntraOpThreads, warnings.Add);
        var provider = new LocalSpeechProvider(espeak, options, ffmpeg, library);
        foreach (var (name, voice) in options.VoiceMap.Concat(options.VoiceOverrides))
        {
            if (!provider.TryResolveId(voice, out _))
            {
                warnings.Add($"the voice '{name}' maps to '{voice}', which is not a local voice: requests for '{name}' get 400.");
            }
        }

        return (provider, null, warnings.Count == 0 ? null : string.Join(" ", warnings.Distinct(StringComparer.Ordinal)));
    }

    public bool TryPrepare(SpeechRequest request, string model, [NotNullWhen(true)] out ISpeechJob? job, [NotNullWhen(false)] out ApiError? error)
    {
        job = null;
        if (!AudioFormats.TryParse(request.ResponseFormat, out var format))
        {
            error = ApiError.InvalidRequest($"Invalid value: '{request.ResponseFormat}'.", "response_format", "invalid_value");
            return false;
        }

        if (!TryResolveVoice(request.Voice, model, out var voice))
        {
            string[] known = [EspeakVoice.AutoId, LocalVoicePattern, .. _library.Models.SelectMany(m => m.VoiceIds).Take(40)];
            error = request.Voice.CustomId is { } id
                ? ApiError.InvalidRequest($"Invalid value: '{Shorten(id)}'. No voice with this id exists: use one of OpenAI's voice names or a local voice id ({string.Join(", ", known.Skip(1))}).", "voice.id", "invalid_value")
                : SpeechModels.UnknownVoice(request.Voice.Value, known);
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

    public void Dispose() => _library.Dispose();

    /// <summary>
    /// The voice for a request. An OpenAI name goes through the configured table, else, for a neural model (named or
    /// standing behind an OpenAI model id), to that model's stand-in voice, else to its espeak-ng variant. Other names
    /// are local voice ids (neural or espeak-ng).
    /// </summary>
    private bool TryResolveVoice(SpeechVoice requested, string model, [NotNullWhen(true)] out ISpeechVoice? voice)
    {
        var name = requested.Value;
        if (requested.Name is not null)
        {
            var named = _library.Models.FirstOrDefault(m => m.Id == model);
            if (named is not null)
            {
                name = VoiceLibrary.StandIn(named, name);
            }
            else if (model == EspeakVoice.AutoId)
            {
                name = _options.VoiceMap.GetValueOrDefault(name, name);
            }
            else if (_options.VoiceOverrides.TryGetValue(name, out var configured))
            {
                name = configured;
            }
            else if (_library.Models.Count > 0)
            {
                // Kokoro's voice table names OpenAI's voices one by one; Piper voices stand in by turns.
                name = VoiceLibrary.StandIn(_library.Models.OrderBy(m => m.Engine == "kokoro" ? 0 : 1).First(), name);
            }
            else
            {
                name = _options.VoiceMap.GetValueOrDefault(name, name);
            }
        }

        return TryResolveId(name, out voice);
    }

    private bool TryResolveId(string id, [NotNullWhen(true)] out ISpeechVoice? voice)
    {
        if (_library.TryGetVoice(id, out voice))
        {
            return true;
        }

        if (EspeakVoice.TryParseId(id, _espeak, out var espeak))
        {
            voice = espeak;
            return true;
        }

        voice = null;
        return false;
    }

    private static IEnumerable<(string Id, string Directory)> VoiceFolders(SpeechOptions options, List<string> warnings)
    {
        var folders = new List<(string, string)>();
        if (options.ModelsDirectory is { } root && Directory.Exists(root))
        {
            try
            {
                foreach (var stored in Capa.Models.Store.ModelStore.Open(root).List())
                {
                    if (stored.Capabilities.Contains(Capa.Models.Store.ModelCapabilities.Speech))
                    {
                        folders.Add((stored.Id, stored.Directory));
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                warnings.Add($"the model store '{root}' cannot be read for voices: {ex.Message}");
            }
        }

        foreach (var directory in options.VoiceDirectories)
        {
            if (Directory.Exists(directory))
            {
                folders.Add((Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))), directory));
            }
            else
            {
                warnings.Add($"the voice folder '{directory}' does not exist.");
            }
        }

        return folders;
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

    private sealed class Job(ISpeechVoice voice, SpeechInput input, AudioFormat format, FfmpegOptions ffmpeg, string fingerprint) : ISpeechJob
    {
        public AudioFormat Format => format;

        public string Fingerprint => fingerprint;

        public string VoiceId => voice.Id;

        public Task<SpeechRenderResult> RunAsync(Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> output, CancellationToken cancellationToken) =>
            SpeechRenderer.RenderAsync(voice, input, format, output, ffmpeg, cancellationToken);
    }
}
