using Capa.Protocol;

namespace Capa.Protocol.Tests.Audio;

public sealed class TranscriptionSubtitlesTests
{
    private static TranscriptionSegment Segment(int id, double start, double end, string text) => new()
    {
        Id = id, Seek = 0, Start = start, End = end, Text = text, Tokens = [], Temperature = 0, AvgLogprob = 0, CompressionRatio = 1, NoSpeechProb = 0,
    };

    [Fact]
    public void Srt_And_Vtt_HaveNumberedCuesAndTimestamps()
    {
        TranscriptionSegment[] segments = [Segment(0, 0, 2.5, " Hello there."), Segment(1, 2.5, 3.5, " "), Segment(2, 3661.0015, 3662, " a --> b")];
        Assert.Equal("1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n2\n01:01:01,002 --> 01:01:02,000\na -> b\n\n", TranscriptionSubtitles.ToSrt(segments));
        Assert.Equal("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello there.\n\n01:01:01.002 --> 01:01:02.000\na -> b\n\n", TranscriptionSubtitles.ToVtt(segments));
    }

    [Fact]
    public void Line_breaks_in_a_segment_never_end_its_cue()
    {
        TranscriptionSegment[] segments = [Segment(0, 0, 1, " one\n\ntwo\r\nthree\u2028four"), Segment(1, 1, 2, "\n\n")];
        Assert.Equal("1\n00:00:00,000 --> 00:00:01,000\none  two  three four\n\n", TranscriptionSubtitles.ToSrt(segments));
        Assert.Equal("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\none  two  three four\n\n", TranscriptionSubtitles.ToVtt(segments));
    }

    [Fact]
    public void Timestamp_NeverNegative()
    {
        Assert.Equal("00:00:00,000", TranscriptionSubtitles.Timestamp(-1, ','));
    }
}
