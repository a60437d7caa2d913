namespace Capa.Engine.Whisper;

/// <summary>What to do with the audio (openai/whisper's <c>transcribe</c> options that the API exposes).</summary>
public sealed record WhisperTranscriptionOptions
{
    /// <summary><c>transcribe</c>, or <c>translate</c> (to English).</summary>
    public string Task { get; init; } = "transcribe";

    /// <summary>A language code; null detects it from the first window.</summary>
    public string? Language { get; init; }

    /// <summary>Text that precedes the audio (names, spelling, style); it conditions the first window.</summary>
    public string? Prompt { get; init; }

    /// <summary>
    /// The first temperature. 0 decodes greedily and falls back to 0.2, 0.4 … 1.0 when a window looks repetitive
    /// (compression ratio &gt; 2.4) or unlikely (average log-probability &lt; −1); a higher value starts there.
    /// </summary>
    public float Temperature { get; init; }

    /// <summary>Whether to predict timestamps (segments); without them the whole window is one segment.</summary>
    public bool Timestamps { get; init; } = true;

    /// <summary>
    /// Whether to time each word (openai/whisper's <c>word_timestamps</c>): needs a decoder with cross-attention
    /// outputs (<see cref="WhisperOnnxModel.HasCrossAttentions"/>). As in openai/whisper, word timings also refine the
    /// segments' bounds and where the next window starts.
    /// </summary>
    public bool WordTimestamps { get; init; }

    /// <summary>Seed of the sampling noise at temperatures above 0 (same audio, seed and options: same output).</summary>
    public ulong Seed { get; init; }

    /// <summary>Windows whose no-speech probability exceeds this (and whose average log-probability is below −1) are skipped as silence.</summary>
    public double NoSpeechThreshold { get; init; } = 0.6;

    /// <summary>Fallback when the compression ratio exceeds this.</summary>
    public double CompressionRatioThreshold { get; init; } = 2.4;

    /// <summary>Fallback when the average log-probability is below this.</summary>
    public double LogprobThreshold { get; init; } = -1.0;

    /// <summary>Whether a window is prompted with the previous windows' text.</summary>
    public bool ConditionOnPreviousText { get; init; } = true;
}

/// <summary>One segment of a transcript, as verbose_json reports it.</summary>
/// <param name="Id">Index in the transcript.</param>
/// <param name="Seek">The window's start, in mel frames (10 ms).</param>
/// <param name="Start">Start in seconds.</param>
/// <param name="End">End in seconds.</param>
/// <param name="Text">The segment's text.</param>
/// <param name="Tokens">Its token ids, timestamp tokens included.</param>
/// <param name="Temperature">The temperature the window was decoded at.</param>
/// <param name="AvgLogprob">The window's average log-probability.</param>
/// <param name="CompressionRatio">The window's compression ratio.</param>
/// <param name="NoSpeechProb">The window's probability of &lt;|nospeech|&gt;.</param>
/// <param name="TokenLogprobs">The log-probability of each of <paramref name="Tokens"/> when it was chosen.</param>
public sealed record WhisperSegment(
    int Id,
    int Seek,
    double Start,
    double End,
    string Text,
    IReadOnlyList<int> Tokens,
    float Temperature,
    double AvgLogprob,
    double CompressionRatio,
    double NoSpeechProb,
    IReadOnlyList<float> TokenLogprobs)
{
    /// <summary>The segment's words with their timings, when word timestamps were asked for.</summary>
    public IReadOnlyList<WhisperWord> Words { get; init; } = [];
}

/// <summary>One word of a transcript: its text as decoded (a leading space included) and its start and end in seconds.</summary>
/// <param name="Word">The word, punctuation merged in.</param>
/// <param name="Start">Start in seconds.</param>
/// <param name="End">End in seconds.</param>
public sealed record WhisperWord(string Word, double Start, double End);

/// <summary>A finished transcript.</summary>
/// <param name="Text">The whole text.</param>
/// <param name="Language">The language code (given or detected).</param>
/// <param name="Task"><c>transcribe</c> or <c>translate</c>.</param>
/// <param name="Duration">Seconds of audio.</param>
/// <param name="Segments">The segments in order.</param>
public sealed record WhisperTranscript(string Text, string Language, string Task, double Duration, IReadOnlyList<WhisperSegment> Segments);

/// <summary>Progress of a long transcription: seconds of audio done out of the total.</summary>
public readonly record struct WhisperProgress(double Done, double Total);
