using System.IO.Pipelines;
using System.Text;
using Capa.Server.Providers.Upstream;

namespace Capa.Server.Tests.Providers.Upstream;

public sealed class SseDataReaderTests
{
    private static async Task<List<string>> ReadAllAsync(params string[] writes)
    {
        var pipe = new Pipe();
        var writer = Task.Run(async () =>
        {
            foreach (var part in writes)
            {
                await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(part));
                await pipe.Writer.FlushAsync();
            }

            await pipe.Writer.CompleteAsync();
        });
        var reader = new SseDataReader(pipe.Reader, 1024);
        var events = new List<string>();
        while (await reader.ReadAsync(() => { }, default))
        {
            events.Add(Encoding.UTF8.GetString(reader.Data.Span));
        }

        await writer;
        return events;
    }

    [Fact]
    public async Task ReadsEvents_InOnePiece() =>
        Assert.Equal(["{\"a\":1}", "{\"b\":2}", "[DONE]"], await ReadAllAsync("data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n"));

    [Fact]
    public async Task ReadsEvents_SplitAtEveryByte()
    {
        const string stream = "data: {\"a\":1}\r\n\r\n: comment\n\nevent: x\nid: 3\ndata:{\"b\":2}\n\n";
        var parts = stream.Select(c => c.ToString()).ToArray();
        Assert.Equal(["{\"a\":1}", "{\"b\":2}"], await ReadAllAsync(parts));
    }

    [Fact]
    public async Task JoinsMultiLineData_AndDeliversALastEventWithoutBlankLine() =>
        Assert.Equal(["one\ntwo", "last"], await ReadAllAsync("data: one\ndata: two\n\n", "data: last"));

    [Fact]
    public async Task SkipsEventsWithoutData() =>
        Assert.Equal(["x"], await ReadAllAsync(": ping\n\nevent: noop\n\n\n\ndata: x\n\n"));

    [Fact]
    public async Task OversizeEvent_Throws() =>
        await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync("data: " + new string('x', 2000) + "\n\n"));

    [Fact]
    public async Task OversizeLine_WithoutLineBreak_ThrowsBeforeTheLineEnds()
    {
        // The writer never ends the line: the reader must give up on size, not wait for more.
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes("data: " + new string('x', 3000)));
        var reader = new SseDataReader(pipe.Reader, 1024);
        await Assert.ThrowsAsync<InvalidDataException>(() => reader.ReadAsync(() => { }, default).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        await pipe.Writer.CompleteAsync();
    }
}
