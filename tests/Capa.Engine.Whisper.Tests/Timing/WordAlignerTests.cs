using Capa.Engine.Whisper.Decoding;
using Capa.Engine.Whisper.Timing;

namespace Capa.Engine.Whisper.Tests.Timing;

public sealed class WordAlignerTests(TinyWhisperTimestamped tiny) : IClassFixture<TinyWhisperTimestamped>
{
    [Fact]
    public void Transcribe_WordTimestamps_AreOrderedWithinTheirSegmentsAndTheDuration()
    {
        Assert.True(tiny.Transcriber.SupportsWordTimestamps);
        float[] audio = TestAudio.Chirps(65);
        WhisperTranscript transcript = tiny.Transcriber.Transcribe(audio, new WhisperTranscriptionOptions { Language = "en", WordTimestamps = true });

        Assert.NotEmpty(transcript.Segments);
        Assert.Contains(transcript.Segments, s => s.Words.Count > 0);
        double previousSegmentEnd = 0, previousWordEnd = 0;
        foreach (WhisperSegment segment in transcript.Segments)
        {
            Assert.True(segment.Start >= previousSegmentEnd - 1e-9, $"segment {segment.Id} starts at {segment.Start} before {previousSegmentEnd}");
            Assert.True(segment.End >= segment.Start && segment.End <= transcript.Duration + 1e-9, $"segment {segment.Id}: {segment.Start}..{segment.End}");
            previousSegmentEnd = segment.End;
            if (segment.Text.Length == 0)
            {
                Assert.Empty(segment.Words);
                continue;
            }

            foreach (WhisperWord word in segment.Words)
            {
                Assert.True(word.Start >= segment.Start - 1e-9 && word.End <= segment.End + 1e-9, $"'{word.Word}' {word.Start}..{word.End} outside {segment.Start}..{segment.End}");
                Assert.True(word.Start >= previousWordEnd - 1e-9, $"'{word.Word}' starts at {word.Start} before the previous word's end {previousWordEnd}");
                Assert.True(word.End >= word.Start, $"'{word.Word}' ends before it starts");
                previousWordEnd = word.End;
            }
        }

        // The words are the transcript cut at word boundaries (a word may run across two segments of a window).
        AssertWordsSpellTheText(transcript);
    }

    private static void AssertWordsSpellTheText(WhisperTranscript transcript)
    {
        // Whitespace, control characters (random tokens hold some) and U+FFFD (bytes of a character split across tokens,
        // cut differently) aside, the words spell the text. Not exactly: a word that starts in a segment later emptied
        // (zero length, its text dropped as openai/whisper drops it) goes with it, and one that runs on into such a
        // segment keeps that piece; with random weights a few such pieces appear, so nine tenths must agree.
        static string Letters(string s) => new([.. s.Where(c => c != '\uFFFD' && !char.IsWhiteSpace(c) && !char.IsControl(c))]);
        string text = Letters(transcript.Text), words = Letters(string.Concat(transcript.Segments.SelectMany(s => s.Words).Select(w => w.Word)));
        Assert.NotEmpty(text);
        var previous = new int[words.Length + 1];
        var current = new int[words.Length + 1];
        foreach (char c in text)
        {
            for (int j = 1; j <= words.Length; j++)
            {
                current[j] = c == words[j - 1] ? previous[j - 1] + 1 : Math.Max(previous[j], current[j - 1]);
            }

            (previous, current) = (current, previous);
        }

        int common = previous[words.Length];
        Assert.True(common >= 0.9 * text.Length && common >= 0.9 * words.Length, $"{common} letters in common between the text '{text}' and the words '{words}'");
    }

    [Fact]
    public void Transcribe_WithoutWordTimestamps_GivesNoWords()
    {
        WhisperTranscript transcript = tiny.Transcriber.Transcribe(TestAudio.Chirps(8), new WhisperTranscriptionOptions { Language = "en" });
        Assert.All(transcript.Segments, s => Assert.Empty(s.Words));
    }

    [Fact]
    public void Transcribe_Chinese_TimesEachCharacter()
    {
        WhisperTranscript transcript = tiny.Transcriber.Transcribe(TestAudio.Chirps(12, seed: 3), new WhisperTranscriptionOptions { Language = "zh", WordTimestamps = true });
        Assert.Contains(transcript.Segments, s => s.Words.Count > 0);
        AssertWordsSpellTheText(transcript);
        // Without spaces to split at, a word is what one token (or the few that make one character) spells.
        int words = transcript.Segments.Sum(s => s.Words.Count);
        int tokens = transcript.Segments.Sum(s => s.Tokens.Count(t => t < tiny.Folder.Tokens.EndOfText));
        Assert.InRange(words, tokens / 3, tokens);
    }

    [Fact]
    public void SplitToWordTokens_SplitsAtSpacesAndPunctuation_OrPerCharacter()
    {
        var aligner = new WordAligner(tiny.Model, new WindowDecoder(tiny.Model));
        int eot = tiny.Folder.Tokens.EndOfText;
        List<int> english = [.. tiny.Folder.Tokenizer.Encode(" Hello, wonderful world."), eot];
        (List<string> words, List<List<int>> tokens) = aligner.SplitToWordTokens(english, "en");
        Assert.Equal([" Hello", ",", " wonderful", " world", ".", ""], words);
        Assert.Equal(english, tokens.SelectMany(t => t));
        Assert.Equal([eot], tokens[^1]);

        // A rare character is several byte tokens: they stay together; a common word is one token, one word.
        List<int> chinese = [.. tiny.Folder.Tokenizer.Encode("龘你好"), eot];
        (words, tokens) = aligner.SplitToWordTokens(chinese, "zh");
        Assert.Equal(["龘", "你好", ""], words);
        Assert.True(tokens[0].Count > 1);
        Assert.Equal(chinese, tokens.SelectMany(t => t));
    }

    [Fact]
    public void MergePunctuations_JoinsOpeningMarksForwardAndClosingMarksBackward()
    {
        List<WordTiming> words =
        [
            new(" \"", [1], 0.0, 0.1),
            new("Hello", [2], 0.1, 0.5),
            new(",", [3], 0.5, 0.6),
            new(" world", [4], 0.6, 1.0),
            new(".", [5], 1.0, 1.1),
        ];
        WordAligner.MergePunctuations(words);
        Assert.Equal(["", " \"Hello,", "", " world.", ""], words.Select(w => w.Word));
        Assert.Equal([[], [1, 2, 3], [], [4, 5], []], words.Select(w => w.Tokens));
    }

    [Fact]
    public void ModelWithoutCrossAttentions_CannotTimeWords()
    {
        using var plain = new TinyWhisper();
        Assert.False(plain.Model.HasCrossAttentions);
        Assert.False(plain.Transcriber.SupportsWordTimestamps);
        Assert.Throws<NotSupportedException>(() => plain.Transcriber.Transcribe(TestAudio.Chirps(2), new WhisperTranscriptionOptions { Language = "en", WordTimestamps = true }));
    }
}
