using System.Text;
using Capa.Engine.Whisper.Decoding;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Whisper.Timing;

/// <summary>A word of a window with its tokens and its start and end within the window (seconds).</summary>
internal sealed class WordTiming(string word, List<int> tokens, double start, double end)
{
    public string Word { get; set; } = word;

    public List<int> Tokens { get; set; } = tokens;

    public double Start { get; set; } = start;

    public double End { get; set; } = end;
}

/// <summary>A segment of one window whose start and end word timestamps may refine.</summary>
internal sealed class AlignedSegment(double start, double end, IReadOnlyList<int> tokens)
{
    public double Start { get; set; } = start;

    public double End { get; set; } = end;

    public IReadOnlyList<int> Tokens { get; } = tokens;

    public List<WhisperWord> Words { get; } = [];
}

/// <summary>
/// Word timestamps as openai/whisper's <c>timing.py</c> computes them: the window's text tokens are run through the
/// decoder once more, after <c>&lt;|startoftranscript|&gt;</c>, language, task and <c>&lt;|notimestamps|&gt;</c>; the
/// alignment heads' cross-attentions give each token the time the warping path reaches it; tokens are grouped into
/// words (at spaces and punctuation, or per character for languages written without spaces), punctuation is merged
/// into its neighbour, and a few heuristics keep words at pauses and sentence ends from stretching.
/// </summary>
internal sealed class WordAligner
{
    /// <summary>openai/whisper's defaults: merged with the following word.</summary>
    public const string PrependPunctuations = "\"'“¿([{-";

    /// <summary>openai/whisper's defaults: merged with the preceding word.</summary>
    public const string AppendPunctuations = "\"'.。,，!！?？:：”)]}、";

    /// <summary>Python's <c>string.punctuation</c>.</summary>
    private const string AsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    private const string SentenceEndMarks = ".。!！?？";

    private static readonly HashSet<string> UnspacedLanguages = new(StringComparer.Ordinal) { "zh", "ja", "th", "lo", "my", "yue" };

    private readonly WhisperOnnxModel _model;
    private readonly WindowDecoder _decoder;
    private readonly int[] _layers;

    public WordAligner(WhisperOnnxModel model, WindowDecoder decoder)
    {
        _model = model;
        _decoder = decoder;
        _layers = [.. model.AlignmentHeads.Select(h => h.Layer).Distinct().Order()];
    }

    /// <summary>
    /// openai/whisper's <c>find_alignment</c>: the timing of each word of <paramref name="textTokens"/> within the
    /// window whose encoder states are <paramref name="encoderStates"/>; <paramref name="contentFrames"/> mel frames
    /// of it hold audio.
    /// </summary>
    public List<WordTiming> FindAlignment(OrtValue encoderStates, IReadOnlyList<int> textTokens, string language, string task, int contentFrames)
    {
        if (textTokens.Count == 0)
        {
            return [];
        }

        WhisperTokens special = _model.Folder.Tokens;
        List<int> start = _decoder.InitialTokens(new WindowOptions { Task = task, Language = language, WithoutTimestamps = true });
        int sotLength = start.Count - 1;
        long[] tokens = [.. start.Select(t => (long)t), .. textTokens.Select(t => (long)t), special.EndOfText];
        float[][] perLayer;
        int frames;
        using (WhisperDecoding decoding = _model.StartDecoding(encoderStates))
        {
            perLayer = decoding.CrossAttentions(tokens, _layers, out frames);
        }

        int n = tokens.Length;
        int headSize = n * frames;
        var heads = new List<float[]>(_model.AlignmentHeads.Count);
        foreach ((int layer, int head) in _model.AlignmentHeads)
        {
            heads.Add(perLayer[Array.IndexOf(_layers, layer)].AsSpan(head * headSize, headSize).ToArray());
        }

        int used = Math.Clamp(contentFrames / 2, 1, frames);
        float[] matrix = TokenAlignment.Matrix(heads, n, frames, used);
        // Rows from <|notimestamps|> to the last text token: the row that predicts a token marks where it starts.
        double[] jumpTimes = TokenAlignment.RowStartTimes(matrix, n, used, sotLength, n - 1);

        (List<string> words, List<List<int>> wordTokens) = SplitToWordTokens([.. textTokens, special.EndOfText], language);
        if (wordTokens.Count <= 1)
        {
            return [];
        }

        var timings = new List<WordTiming>(words.Count - 1);
        int boundary = 0;
        for (int i = 0; i < words.Count - 1; i++)
        {
            int next = boundary + wordTokens[i].Count;
            timings.Add(new WordTiming(words[i], wordTokens[i], jumpTimes[boundary], jumpTimes[next]));
            boundary = next;
        }

        return timings;
    }

    /// <summary>
    /// openai/whisper's <c>split_to_word_tokens</c>: per decodable character run for languages written without spaces,
    /// else at leading spaces and punctuation. Special tokens (end of text) stand alone.
    /// </summary>
    public (List<string> Words, List<List<int>> Tokens) SplitToWordTokens(IReadOnlyList<int> tokens, string language)
    {
        (List<string> subwords, List<List<int>> subwordTokens) = SplitOnUnicode(tokens);
        if (UnspacedLanguages.Contains(language))
        {
            return (subwords, subwordTokens);
        }

        var words = new List<string>();
        var wordTokens = new List<List<int>>();
        int eot = _model.Folder.Tokens.EndOfText;
        for (int i = 0; i < subwords.Count; i++)
        {
            string subword = subwords[i];
            bool special = subwordTokens[i][0] >= eot;
            bool withSpace = subword.StartsWith(' ');
            // Python's `in` on strings: a substring test, so an empty (whitespace-only) subword counts too.
            bool punctuation = AsciiPunctuation.Contains(subword.Trim(), StringComparison.Ordinal);
            if (special || withSpace || punctuation || words.Count == 0)
            {
                words.Add(subword);
                wordTokens.Add(subwordTokens[i]);
            }
            else
            {
                words[^1] += subword;
                wordTokens[^1].AddRange(subwordTokens[i]);
            }
        }

        return (words, wordTokens);
    }

    /// <summary>
    /// Splits where the tokens so far decode to whole characters (openai/whisper's <c>split_tokens_on_unicode</c>): a
    /// token whose bytes stop inside a UTF-8 sequence that the next token's bytes continue is grouped with it. The test
    /// is on the bytes (openai/whisper compares decoded strings, which can keep an invalid byte from ever closing a group).
    /// </summary>
    private (List<string> Words, List<List<int>> Tokens) SplitOnUnicode(IReadOnlyList<int> tokens)
    {
        var words = new List<string>();
        var wordTokens = new List<List<int>>();
        var current = new List<int>();
        var bytes = new List<byte>();
        for (int i = 0; i < tokens.Count; i++)
        {
            current.Add(tokens[i]);
            bytes.AddRange(Bytes(tokens[i]));
            ReadOnlySpan<byte> next = i + 1 < tokens.Count ? Bytes(tokens[i + 1]) : [];
            bool continued = EndsInsideCharacter(bytes) && next.Length > 0 && (next[0] & 0xC0) == 0x80;
            if (!continued)
            {
                words.Add(Encoding.UTF8.GetString([.. bytes]));
                wordTokens.Add(current);
                current = [];
                bytes.Clear();
            }
        }

        return (words, wordTokens);
    }

    /// <summary>Whether <paramref name="bytes"/> end with the lead of a multi-byte UTF-8 character that lacks continuation bytes.</summary>
    private static bool EndsInsideCharacter(List<byte> bytes)
    {
        for (int back = 1; back <= Math.Min(4, bytes.Count); back++)
        {
            byte b = bytes[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue;
            }

            int length = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            return back < length;
        }

        return false;
    }

    /// <summary>The bytes a token adds to the text (none for special tokens).</summary>
    private ReadOnlySpan<byte> Bytes(int token) =>
        token < _model.Folder.Tokens.EndOfText ? _model.Folder.Tokenizer.GetTokenBytes(token).Span : [];

    /// <summary>openai/whisper's <c>merge_punctuations</c>: opening marks join the next word, closing marks the previous one.</summary>
    public static void MergePunctuations(List<WordTiming> alignment, string prepended = PrependPunctuations, string appended = AppendPunctuations)
    {
        ArgumentNullException.ThrowIfNull(alignment);
        int i = alignment.Count - 2, j = alignment.Count - 1;
        while (i >= 0)
        {
            WordTiming previous = alignment[i], following = alignment[j];
            if (previous.Word.StartsWith(' ') && prepended.Contains(previous.Word.Trim(), StringComparison.Ordinal))
            {
                following.Word = previous.Word + following.Word;
                following.Tokens = [.. previous.Tokens, .. following.Tokens];
                previous.Word = "";
                previous.Tokens = [];
            }
            else
            {
                j = i;
            }

            i--;
        }

        i = 0;
        j = 1;
        while (j < alignment.Count)
        {
            WordTiming previous = alignment[i], following = alignment[j];
            if (!previous.Word.EndsWith(' ') && appended.Contains(following.Word, StringComparison.Ordinal))
            {
                previous.Word += following.Word;
                previous.Tokens = [.. previous.Tokens, .. following.Tokens];
                following.Word = "";
                following.Tokens = [];
            }
            else
            {
                i = j;
            }

            j++;
        }
    }

    /// <summary>
    /// openai/whisper's <c>add_word_timestamps</c> for the segments of one window: aligns their text tokens, truncates
    /// words that stretch over sentence ends or pauses, merges punctuation, gives each segment its words (absolute
    /// times, rounded to 10 ms) and lets the first and last word refine the segment's start and end.
    /// </summary>
    /// <param name="segments">The window's segments; their words are filled in and their bounds may move.</param>
    /// <param name="encoderStates">The window's encoder states.</param>
    /// <param name="language">The transcript's language (how words are split).</param>
    /// <param name="task">transcribe or translate.</param>
    /// <param name="timeOffset">The window's start in seconds.</param>
    /// <param name="contentFrames">Mel frames of the window that hold audio.</param>
    /// <param name="lastSpeechTimestamp">The end of the last word of the previous windows.</param>
    public void AddWordTimestamps(
        IReadOnlyList<AlignedSegment> segments, OrtValue encoderStates, string language, string task, double timeOffset, int contentFrames, double lastSpeechTimestamp)
    {
        if (segments.Count == 0)
        {
            return;
        }

        int eot = _model.Folder.Tokens.EndOfText;
        List<List<int>> textPerSegment = [.. segments.Select(s => s.Tokens.Where(t => t < eot).ToList())];
        List<WordTiming> alignment = FindAlignment(encoderStates, [.. textPerSegment.SelectMany(t => t)], language, task, contentFrames);
        double[] durations = [.. alignment.Select(w => w.End - w.Start).Where(d => d != 0)];
        double median = Math.Min(0.7, Median(durations));
        double maxDuration = median * 2;

        if (durations.Length > 0)
        {
            for (int i = 1; i < alignment.Count; i++)
            {
                if (alignment[i].End - alignment[i].Start > maxDuration)
                {
                    if (SentenceEndMarks.Contains(alignment[i].Word, StringComparison.Ordinal))
                    {
                        alignment[i].End = alignment[i].Start + maxDuration;
                    }
                    else if (SentenceEndMarks.Contains(alignment[i - 1].Word, StringComparison.Ordinal))
                    {
                        alignment[i].Start = alignment[i].End - maxDuration;
                    }
                }
            }
        }

        MergePunctuations(alignment);

        // Each word goes to the segment its first token is in. (openai/whisper counts tokens per segment instead, so a
        // word running over a segment's end shifts every later word of the window one segment on.)
        int position = 0, segmentIndex = 0, segmentEnd = textPerSegment[0].Count;
        foreach (WordTiming timing in alignment)
        {
            while (segmentIndex < segments.Count - 1 && position >= segmentEnd)
            {
                segmentIndex++;
                segmentEnd += textPerSegment[segmentIndex].Count;
            }

            if (timing.Word.Length > 0)
            {
                segments[segmentIndex].Words.Add(new WhisperWord(timing.Word, Math.Round(timeOffset + timing.Start, 2), Math.Round(timeOffset + timing.End, 2)));
            }

            position += timing.Tokens.Count;
        }

        for (int s = 0; s < segments.Count; s++)
        {
            AlignedSegment segment = segments[s];
            List<WhisperWord> words = segment.Words;
            if (words.Count == 0)
            {
                continue;
            }

            // After a pause, the first (and second) word may not stretch past twice the median word.
            if (words[0].End - lastSpeechTimestamp > median * 4
                && (words[0].End - words[0].Start > maxDuration || (words.Count > 1 && words[1].End - words[0].Start > maxDuration * 2)))
            {
                if (words.Count > 1 && words[1].End - words[1].Start > maxDuration)
                {
                    double boundary = Math.Max(words[1].End / 2, words[1].End - maxDuration);
                    words[0] = words[0] with { End = boundary };
                    words[1] = words[1] with { Start = boundary };
                }

                words[0] = words[0] with { Start = Math.Max(0, words[0].End - maxDuration) };
            }

            // The segment's own timestamps win over a first or last word that looks too long.
            if (segment.Start < words[0].End && segment.Start - 0.5 > words[0].Start)
            {
                words[0] = words[0] with { Start = Math.Max(0, Math.Min(words[0].End - median, segment.Start)) };
            }
            else
            {
                segment.Start = words[0].Start;
            }

            if (segment.End > words[^1].Start && segment.End + 0.5 < words[^1].End)
            {
                words[^1] = words[^1] with { End = Math.Max(words[^1].Start + median, segment.End) };
            }
            else
            {
                segment.End = words[^1].End;
            }

            lastSpeechTimestamp = segment.End;
        }
    }

    /// <summary>numpy's median: the middle value, or the mean of the two middle values; 0 for none.</summary>
    private static double Median(double[] values)
    {
        if (values.Length == 0)
        {
            return 0;
        }

        double[] sorted = [.. values.Order()];
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
