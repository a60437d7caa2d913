using System.Text.Json.Serialization;

namespace Capa.Protocol.Audio;

/// <summary><c>speech.audio.delta</c>: a chunk of audio, base64-encoded.</summary>
public sealed record SpeechAudioDeltaEvent
{
    /// <summary>Always <c>speech.audio.delta</c>.</summary>
    [JsonPropertyOrder(-1)]
    public string Type { get; init; } = "speech.audio.delta";

    /// <summary>Base64 of the audio bytes.</summary>
    public required string Audio { get; init; }
}

/// <summary><c>speech.audio.done</c>: the stream is complete.</summary>
public sealed record SpeechAudioDoneEvent
{
    /// <summary>Always <c>speech.audio.done</c>.</summary>
    [JsonPropertyOrder(-1)]
    public string Type { get; init; } = "speech.audio.done";

    /// <summary>Token counts.</summary>
    public required SpeechUsage Usage { get; init; }
}

/// <summary>
/// Usage of a speech request. Local voices have no tokens; Capa counts the input as one token per four UTF-8 bytes
/// (rounded up) and the output as one token per 50 ms of audio, so the numbers grow with text and with duration.
/// </summary>
public sealed record SpeechUsage
{
    /// <summary>Tokens of input text.</summary>
    public required int InputTokens { get; init; }

    /// <summary>Tokens of output audio.</summary>
    public required int OutputTokens { get; init; }

    /// <summary>Their sum.</summary>
    public required int TotalTokens { get; init; }

    /// <summary>The usage of <paramref name="input"/> spoken as <paramref name="audio"/>.</summary>
    public static SpeechUsage For(string input, TimeSpan audio)
    {
        ArgumentNullException.ThrowIfNull(input);
        var inputTokens = Math.Max(1, (System.Text.Encoding.UTF8.GetByteCount(input) + 3) / 4);
        var outputTokens = (int)Math.Ceiling(audio.TotalMilliseconds / 50);
        return new SpeechUsage { InputTokens = inputTokens, OutputTokens = outputTokens, TotalTokens = inputTokens + outputTokens };
    }
}

/// <summary>JSON metadata for the speech wire types (snake_case, as the spec).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = false)]
[JsonSerializable(typeof(SpeechAudioDeltaEvent))]
[JsonSerializable(typeof(SpeechAudioDoneEvent))]
[JsonSerializable(typeof(SpeechRequest))]
public sealed partial class SpeechJsonContext : JsonSerializerContext
{
}
