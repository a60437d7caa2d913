using System.Text.Json.Serialization;

namespace Capa.Protocol;

/// <summary><c>usage</c> of a Whisper transcription: seconds of audio billed.</summary>
public sealed record TranscriptionUsage
{
    /// <summary>Always <c>duration</c>.</summary>
    public string Type { get; init; } = "duration";

    /// <summary>Seconds of audio, rounded up as OpenAI bills them.</summary>
    public required double Seconds { get; init; }
}

/// <summary>
/// <c>usage</c> of a streamed transcript's <c>transcript.text.done</c> event, which OpenAI's spec types as token usage
/// (<c>TranscriptTextUsageTokens</c>). Audio tokens are the encoder positions of the audio (50 a second for Whisper);
/// output tokens are the tokens decoded, timestamps included.
/// </summary>
public sealed record TranscriptionTokenUsage
{
    /// <summary>Always <c>tokens</c>.</summary>
    public string Type { get; init; } = "tokens";

    /// <summary>Tokens read: the audio's.</summary>
    public required int InputTokens { get; init; }

    /// <summary>What <see cref="InputTokens"/> is made of.</summary>
    public required TranscriptionInputTokenDetails InputTokenDetails { get; init; }

    /// <summary>Tokens decoded.</summary>
    public required int OutputTokens { get; init; }

    /// <summary>Input plus output.</summary>
    public int TotalTokens => InputTokens + OutputTokens;

    /// <summary>The usage of a transcript of <paramref name="seconds"/> of audio decoded into <paramref name="outputTokens"/> tokens.</summary>
    public static TranscriptionTokenUsage For(double seconds, int outputTokens)
    {
        var audio = (int)Math.Ceiling(seconds * AudioTokensPerSecond);
        return new TranscriptionTokenUsage { InputTokens = audio, InputTokenDetails = new TranscriptionInputTokenDetails { AudioTokens = audio }, OutputTokens = outputTokens };
    }

    /// <summary>Whisper's encoder: 100 mel frames a second, halved by its strided convolution.</summary>
    public const int AudioTokensPerSecond = 50;
}

/// <summary><c>input_token_details</c> of <see cref="TranscriptionTokenUsage"/>.</summary>
public sealed record TranscriptionInputTokenDetails
{
    /// <summary>Encoder positions of the audio.</summary>
    public required int AudioTokens { get; init; }
}

/// <summary>One token's log-probability (<c>include[]=logprobs</c>).</summary>
public sealed record TranscriptionLogprob
{
    /// <summary>The token's text.</summary>
    public required string Token { get; init; }

    /// <summary>Its log-probability.</summary>
    public required double Logprob { get; init; }

    /// <summary>Its UTF-8 bytes.</summary>
    public required IReadOnlyList<int> Bytes { get; init; }
}

/// <summary>The json response: <c>{"text", "logprobs"?, "usage"}</c>.</summary>
public sealed record TranscriptionJsonResponse
{
    /// <summary>The transcript.</summary>
    public required string Text { get; init; }

    /// <summary>Per-token log-probabilities, when asked for.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<TranscriptionLogprob>? Logprobs { get; init; }

    /// <summary>Seconds of audio; absent for translations, as OpenAI's.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TranscriptionUsage? Usage { get; init; }
}

/// <summary>One segment of verbose_json.</summary>
public sealed record TranscriptionSegment
{
    public required int Id { get; init; }

    public required int Seek { get; init; }

    public required double Start { get; init; }

    public required double End { get; init; }

    public required string Text { get; init; }

    public required IReadOnlyList<int> Tokens { get; init; }

    public required double Temperature { get; init; }

    public required double AvgLogprob { get; init; }

    public required double CompressionRatio { get; init; }

    public required double NoSpeechProb { get; init; }
}

/// <summary>One word of verbose_json.</summary>
public sealed record TranscriptionWord
{
    public required string Word { get; init; }

    public required double Start { get; init; }

    public required double End { get; init; }
}

/// <summary>The verbose_json response.</summary>
public sealed record TranscriptionVerboseJsonResponse
{
    /// <summary><c>transcribe</c> or <c>translate</c>.</summary>
    public required string Task { get; init; }

    /// <summary>The language's English name (<c>english</c>); <c>english</c> for translations.</summary>
    public required string Language { get; init; }

    /// <summary>Seconds of audio.</summary>
    public required double Duration { get; init; }

    /// <summary>The transcript.</summary>
    public required string Text { get; init; }

    /// <summary>Word timings, when <c>timestamp_granularities[]=word</c> was asked for.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<TranscriptionWord>? Words { get; init; }

    /// <summary>Segments (absent when only word granularity was asked for).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<TranscriptionSegment>? Segments { get; init; }

    /// <summary>Seconds of audio; absent for translations.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TranscriptionUsage? Usage { get; init; }
}

/// <summary>SSE <c>transcript.text.delta</c>.</summary>
public sealed record TranscriptTextDeltaEvent
{
    public string Type { get; init; } = "transcript.text.delta";

    public required string Delta { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<TranscriptionLogprob>? Logprobs { get; init; }
}

/// <summary>SSE <c>transcript.text.done</c>.</summary>
public sealed record TranscriptTextDoneEvent
{
    public string Type { get; init; } = "transcript.text.done";

    public required string Text { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<TranscriptionLogprob>? Logprobs { get; init; }

    public required TranscriptionTokenUsage Usage { get; init; }
}

/// <summary>Source-generated JSON for the audio transcription wire types (snake_case, as the spec).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(TranscriptionJsonResponse))]
[JsonSerializable(typeof(TranscriptionVerboseJsonResponse))]
[JsonSerializable(typeof(TranscriptTextDeltaEvent))]
[JsonSerializable(typeof(TranscriptTextDoneEvent))]
public sealed partial class TranscriptionJsonContext : JsonSerializerContext;
