using System.Text;

namespace Capa.Protocol.Tests.Streaming;

public class SseEventParserTests
{
    private static List<SseEvent> Parse(string text, int pieceSize = int.MaxValue)
    {
        var parser = new SseEventParser();
        var bytes = Encoding.UTF8.GetBytes(text);
        var events = new List<SseEvent>();
        for (var i = 0; i < bytes.Length; i += pieceSize)
        {
            parser.Append(bytes.AsSpan(i, Math.Min(pieceSize, bytes.Length - i)));
            while (parser.TryRead(out var sseEvent))
            {
                events.Add(sseEvent);
            }
        }

        return events;
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void All_line_ends_work(string eol)
    {
        var events = Parse($"data: a{eol}{eol}data: b{eol}{eol}");
        Assert.Equal(["a", "b"], events.Select(e => e.DataText));
    }

    [Fact]
    public void Every_split_point_gives_the_same_events()
    {
        const string stream = "\uFEFF: keep-alive\r\nevent: message\r\ndata: {\"x\":\"é✓\"}\r\nid: 7\r\n\r\ndata:first\ndata: second\n\nretry: 10\ndata\n\ndata: [DONE]\n\n";
        var expected = Parse(stream);
        Assert.Equal(4, expected.Count);
        Assert.Equal("message", expected[0].EventType);
        Assert.Equal("{\"x\":\"é✓\"}", expected[0].DataText);
        Assert.Equal("7", expected[0].Id);
        Assert.Equal("first\nsecond", expected[1].DataText);
        Assert.Null(expected[1].EventType);
        Assert.Equal("7", expected[1].Id);
        Assert.Equal("", expected[2].DataText);
        Assert.True(expected[3].IsDone);

        for (var piece = 1; piece <= 8; piece++)
        {
            var actual = Parse(stream, piece);
            Assert.Equal(expected.Select(e => (e.EventType, e.DataText, e.Id)), actual.Select(e => (e.EventType, e.DataText, e.Id)));
        }
    }

    [Fact]
    public void Comments_and_empty_events_dispatch_nothing()
    {
        Assert.Empty(Parse(": ping\n\n\n\nevent: x\n\n"));
    }

    [Fact]
    public void Unterminated_last_event_is_discarded()
    {
        Assert.Equal(["a"], Parse("data: a\n\ndata: b\n").Select(e => e.DataText));
    }

    [Fact]
    public void Only_one_leading_space_is_removed()
    {
        Assert.Equal("  x", Parse("data:   x\n\n")[0].DataText);
    }

    [Fact]
    public void Oversize_events_are_refused()
    {
        var parser = new SseEventParser(maxEventBytes: 64);
        Assert.Throws<InvalidDataException>(() => parser.Append(Encoding.UTF8.GetBytes("data: " + new string('a', 100))));

        parser = new SseEventParser(maxEventBytes: 64);
        for (var i = 0; i < 5; i++)
        {
            parser.Append("data: 0123456789\n"u8);
        }

        Assert.Throws<InvalidDataException>(() => parser.Append("data: 0123456789\n"u8));
    }

    [Fact]
    public void Large_streams_in_small_reads_keep_memory_bounded()
    {
        var parser = new SseEventParser(maxEventBytes: 1024);
        var count = 0;
        for (var i = 0; i < 10_000; i++)
        {
            parser.Append("data: {\"i\":1}\n\n"u8);
            while (parser.TryRead(out _))
            {
                count++;
            }
        }

        Assert.Equal(10_000, count);
    }
}
