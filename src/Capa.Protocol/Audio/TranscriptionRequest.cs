namespace Capa.Protocol;

/// <summary><c>response_format</c> of a transcription or translation.</summary>
public enum TranscriptionResponseFormat
{
    /// <summary><c>{"text": ..., "usage": ...}</c>.</summary>
    Json,

    /// <summary>The text alone, <c>text/plain</c>.</summary>
    Text,

    /// <summary>SubRip subtitles.</summary>
    Srt,

    /// <summary>Task, language, duration, text, segments, words and usage.</summary>
    VerboseJson,

    /// <summary>WebVTT subtitles.</summary>
    Vtt,
}

/// <summary>A validated <c>POST /v1/audio/transcriptions</c> or <c>/v1/audio/translations</c> request.</summary>
public sealed record TranscriptionRequest
{
    /// <summary><c>transcribe</c> (transcriptions) or <c>translate</c> (translations, to English).</summary>
    public required string Task { get; init; }

    /// <summary>The model id as the client sent it.</summary>
    public required string Model { get; init; }

    /// <summary>The uploaded file's bytes.</summary>
    public required ReadOnlyMemory<byte> File { get; init; }

    /// <summary>The uploaded file's name (its extension is a format hint).</summary>
    public required string FileName { get; init; }

    /// <summary>ISO-639-1 code of the audio's language, lower-case; null to detect it (translations never set it).</summary>
    public string? Language { get; init; }

    /// <summary>Text to condition the first window on.</summary>
    public string? Prompt { get; init; }

    /// <summary>The response format.</summary>
    public TranscriptionResponseFormat ResponseFormat { get; init; } = TranscriptionResponseFormat.Json;

    /// <summary>0 (default: greedy with fallback) to 1.</summary>
    public double Temperature { get; init; }

    /// <summary>Whether verbose_json should carry <c>words</c>.</summary>
    public bool WordTimestamps { get; init; }

    /// <summary>Whether verbose_json should carry <c>segments</c> (the default granularity).</summary>
    public bool SegmentTimestamps { get; init; } = true;

    /// <summary>Whether to answer with <c>transcript.text.delta</c> / <c>transcript.text.done</c> server-sent events.</summary>
    public bool Stream { get; init; }

    /// <summary>Whether <c>include[]=logprobs</c> was asked for.</summary>
    public bool IncludeLogprobs { get; init; }

    /// <summary><c>auto</c>, <c>server_vad</c> (from the object form), or null when absent.</summary>
    public string? ChunkingStrategy { get; init; }

    /// <summary>Whether the response format is JSON (json or verbose_json).</summary>
    public bool IsJsonFormat => ResponseFormat is TranscriptionResponseFormat.Json or TranscriptionResponseFormat.VerboseJson;
}
