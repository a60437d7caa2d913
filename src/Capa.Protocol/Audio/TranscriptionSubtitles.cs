using System.Globalization;
using System.Text;

namespace Capa.Protocol;

/// <summary>SubRip and WebVTT renderings of segments, as openai/whisper's writers produce them.</summary>
public static class TranscriptionSubtitles
{
    /// <summary>SRT: numbered cues, <c>HH:MM:SS,mmm --&gt; HH:MM:SS,mmm</c>, a blank line after each.</summary>
    public static string ToSrt(IEnumerable<TranscriptionSegment> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var sb = new StringBuilder();
        int index = 1;
        foreach (TranscriptionSegment s in Cues(segments))
        {
            sb.Append(index++.ToString(CultureInfo.InvariantCulture)).Append('\n')
              .Append(Timestamp(s.Start, ',')).Append(" --> ").Append(Timestamp(s.End, ',')).Append('\n')
              .Append(Clean(s.Text)).Append("\n\n");
        }

        return sb.ToString();
    }

    /// <summary>WebVTT: a <c>WEBVTT</c> header, then <c>HH:MM:SS.mmm --&gt; HH:MM:SS.mmm</c> cues.</summary>
    public static string ToVtt(IEnumerable<TranscriptionSegment> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var sb = new StringBuilder("WEBVTT\n\n");
        foreach (TranscriptionSegment s in Cues(segments))
        {
            sb.Append(Timestamp(s.Start, '.')).Append(" --> ").Append(Timestamp(s.End, '.')).Append('\n')
              .Append(Clean(s.Text)).Append("\n\n");
        }

        return sb.ToString();
    }

    /// <summary><c>HH:MM:SS{separator}mmm</c>, never negative.</summary>
    public static string Timestamp(double seconds, char separator)
    {
        long ms = (long)Math.Round(Math.Max(0, seconds) * 1000, MidpointRounding.AwayFromZero);
        long h = ms / 3_600_000, m = ms / 60_000 % 60, s = ms / 1000 % 60, f = ms % 1000;
        return string.Create(CultureInfo.InvariantCulture, $"{h:00}:{m:00}:{s:00}{separator}{f:000}");
    }

    // Cues with no text are left out: a subtitle file has nothing to show for them.
    private static IEnumerable<TranscriptionSegment> Cues(IEnumerable<TranscriptionSegment> segments) =>
        segments.Where(s => !string.IsNullOrWhiteSpace(s.Text));

    // "-->" inside a cue would end it early in both formats, and so would a blank line: a decoded line break becomes a
    // space, so each cue is one line of text whatever the model wrote.
    private static string Clean(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            sb.Append(c is '\r' or '\n' or '\u0085' or '\u2028' or '\u2029' ? ' ' : c);
        }

        return sb.ToString().Trim().Replace("-->", "->", StringComparison.Ordinal);
    }
}
