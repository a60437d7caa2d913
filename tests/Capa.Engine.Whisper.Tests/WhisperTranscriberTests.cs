namespace Capa.Engine.Whisper.Tests;

public sealed class WhisperTranscriberTests(TinyWhisper tiny) : IClassFixture<TinyWhisper>
{
    [Fact]
    public void Transcribe_LongAudio_SegmentsAreOrderedNonOverlappingAndWithinTheDuration()
    {
        float[] audio = TestAudio.Chirps(65);
        var progress = new List<WhisperProgress>();
        WhisperTranscript transcript = tiny.Transcriber.Transcribe(audio, new WhisperTranscriptionOptions { Language = "en" }, new SyncProgress(progress.Add));

        Assert.Equal(65.0, transcript.Duration, 3);
        Assert.Equal("en", transcript.Language);
        Assert.Equal("transcribe", transcript.Task);
        Assert.NotEmpty(transcript.Segments);
        double previousEnd = 0;
        int previousSeek = 0;
        for (int i = 0; i < transcript.Segments.Count; i++)
        {
            WhisperSegment s = transcript.Segments[i];
            Assert.Equal(i, s.Id);
            Assert.True(s.Start >= previousEnd - 1e-9, $"segment {i} starts at {s.Start} before the previous end {previousEnd}");
            Assert.True(s.End >= s.Start && s.End <= transcript.Duration + 1e-9, $"segment {i}: {s.Start}..{s.End}");
            Assert.True(s.Seek >= previousSeek);
            Assert.InRange(s.Temperature, 0f, 1f);
            Assert.InRange(s.NoSpeechProb, 0.0, 1.0);
            previousEnd = s.End;
            previousSeek = s.Seek;
        }

        Assert.Equal(transcript.Text.Trim(), string.Concat(transcript.Segments.Select(s => s.Text)).Trim());
        Assert.NotEmpty(progress);
        Assert.Equal(65.0, progress[^1].Done, 3);
    }

    [Fact]
    public void Transcribe_WithoutLanguage_DetectsOneTheModelKnows()
    {
        WhisperTranscript transcript = tiny.Transcriber.Transcribe(TestAudio.Chirps(3), new WhisperTranscriptionOptions { Timestamps = false });
        Assert.Contains(transcript.Language, tiny.Transcriber.Languages);
    }

    [Fact]
    public void Transcribe_SampledIsReproducibleForASeedAndVariesAcrossSeeds()
    {
        float[] audio = TestAudio.Chirps(6);
        WhisperTranscript Run(ulong seed) => tiny.Transcriber.Transcribe(audio, new WhisperTranscriptionOptions { Language = "en", Temperature = 0.8f, Seed = seed });

        WhisperTranscript a = Run(11), b = Run(11);
        Assert.Equal(a.Text, b.Text);
        Assert.Equal(a.Segments.SelectMany(s => s.Tokens), b.Segments.SelectMany(s => s.Tokens));
        Assert.Contains(Enumerable.Range(12, 4).Select(s => Run((ulong)s)), other => !other.Segments.SelectMany(s => s.Tokens).SequenceEqual(a.Segments.SelectMany(s => s.Tokens)));
    }

    [Fact]
    public void Transcribe_UnknownLanguageOrTask_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => tiny.Transcriber.Transcribe(new float[1600], new WhisperTranscriptionOptions { Language = "xx" }));
        Assert.Throws<ArgumentException>(() => tiny.Transcriber.Transcribe(new float[1600], new WhisperTranscriptionOptions { Task = "summarize" }));
    }

    [Fact]
    public void Temperatures_FollowOpenAiSchedule()
    {
        Assert.Equal([0f, 0.2f, 0.4f, 0.6f, 0.8f, 1f], WhisperTranscriber.Temperatures(0f));
        Assert.Equal([0.5f, 0.7f, 0.9f], WhisperTranscriber.Temperatures(0.5f));
        Assert.Equal([1f], WhisperTranscriber.Temperatures(1f));
    }

    private sealed class SyncProgress(Action<WhisperProgress> report) : IProgress<WhisperProgress>
    {
        public void Report(WhisperProgress value) => report(value);
    }
}
