namespace Capa.Protocol.Audio;

/// <summary>A validated <c>POST /v1/audio/speech</c> body (the spec's <c>CreateSpeechRequest</c>).</summary>
public sealed record SpeechRequest
{
    /// <summary>The model id as sent (<c>tts-1</c>, <c>tts-1-hd</c>, <c>gpt-4o-mini-tts</c>, or a local id).</summary>
    public required string Model { get; init; }

    /// <summary>The text, 1 to 4096 characters.</summary>
    public required string Input { get; init; }

    /// <summary>The voice: a name (built-in or local), or a custom voice id.</summary>
    public required SpeechVoice Voice { get; init; }

    /// <summary>Instructions for the voice (never for <c>tts-1</c> or <c>tts-1-hd</c>), or null.</summary>
    public string? Instructions { get; init; }

    /// <summary>The output format name: mp3 (default), opus, aac, flac, wav or pcm.</summary>
    public string ResponseFormat { get; init; } = "mp3";

    /// <summary>Speed factor, 0.25 to 4; default 1.</summary>
    public double Speed { get; init; } = 1.0;

    /// <summary>
    /// <c>audio</c> (a chunked body of audio bytes, the default) or <c>sse</c> (<c>speech.audio.delta</c> events). For
    /// <c>tts-1</c> and <c>tts-1-hd</c>, which cannot stream events, <see cref="StreamsEvents"/> is false even when
    /// <c>sse</c> was asked for: OpenAI answers those with plain audio.
    /// </summary>
    public string StreamFormat { get; init; } = SpeechStreamFormats.Audio;

    /// <summary>Whether the response is an event stream.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool StreamsEvents => StreamFormat == SpeechStreamFormats.Sse && !SpeechModels.IsClassic(Model);
}

/// <summary>A speech request's voice: a name, or a custom voice reference <c>{"id": ...}</c>.</summary>
public sealed record SpeechVoice
{
    /// <summary>The voice as a string (<c>alloy</c>, or a local voice id), or null for a custom voice reference.</summary>
    public string? Name { get; init; }

    /// <summary>The id of a custom voice reference, or null.</summary>
    public string? CustomId { get; init; }

    /// <summary>The name or the custom id, whichever was given.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Value => Name ?? CustomId ?? "";
}

/// <summary>Values of <c>stream_format</c>.</summary>
public static class SpeechStreamFormats
{
    /// <summary>A chunked body of audio bytes.</summary>
    public const string Audio = "audio";

    /// <summary>Server-sent events.</summary>
    public const string Sse = "sse";

    /// <summary>Both, in the spec's order.</summary>
    public static IReadOnlyList<string> All { get; } = [Sse, Audio];
}

/// <summary>OpenAI's speech models and voices.</summary>
public static class SpeechModels
{
    /// <summary><c>tts-1</c>.</summary>
    public const string Tts1 = "tts-1";

    /// <summary><c>tts-1-hd</c>.</summary>
    public const string Tts1Hd = "tts-1-hd";

    /// <summary><c>gpt-4o-mini-tts</c>.</summary>
    public const string Gpt4oMiniTts = "gpt-4o-mini-tts";

    /// <summary>OpenAI's speech model ids.</summary>
    public static IReadOnlyList<string> OpenAIModels { get; } = [Tts1, Tts1Hd, Gpt4oMiniTts, "gpt-4o-mini-tts-2025-12-15"];

    /// <summary>The built-in voices, in the order OpenAI's documentation lists them.</summary>
    public static IReadOnlyList<string> OpenAIVoices { get; } = ["alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse", "marin", "cedar"];

    /// <summary>The response formats.</summary>
    public static IReadOnlyList<string> ResponseFormats { get; } = ["mp3", "opus", "aac", "flac", "wav", "pcm"];

    /// <summary>Whether the model is one of the first-generation models that take no instructions and stream no events.</summary>
    public static bool IsClassic(string model)
    {
        ArgumentNullException.ThrowIfNull(model);

        // tts-1, tts-1-hd and their dated snapshots (tts-1-1106, tts-1-hd-1106).
        return model is Tts1 or Tts1Hd || model.StartsWith("tts-1-", StringComparison.Ordinal);
    }

    /// <summary>
    /// 400 for a voice that is neither built in nor local, as OpenAI words it: "Invalid value: 'x'. Supported values
    /// are: 'alloy', ... and 'cedar'." (the local voices follow the built-in ones).
    /// </summary>
    public static ApiError UnknownVoice(string voice, IReadOnlyList<string> localVoices)
    {
        ArgumentNullException.ThrowIfNull(voice);
        ArgumentNullException.ThrowIfNull(localVoices);
        return JsonRules.InvalidValue("voice", voice, [.. OpenAIVoices, .. localVoices.Where(v => !OpenAIVoices.Contains(v))]).Error;
    }
}
