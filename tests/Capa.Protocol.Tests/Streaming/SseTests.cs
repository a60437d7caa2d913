using System.Buffers;
using System.Text;

namespace Capa.Protocol.Tests.Streaming;

public class SseTests
{
    private static ChatCompletionChunk Chunk(string content) => new()
    {
        Id = "chatcmpl-1",
        Created = 5,
        Model = "m",
        Choices = [new ChatChunkChoice { Index = 0, Delta = new ChatDelta { Content = content } }],
    };

    [Fact]
    public void Writes_data_lines_and_done()
    {
        var buffer = new ArrayBufferWriter<byte>();
        Sse.WriteChunk(buffer, Chunk("a\nb"));
        Sse.WriteDone(buffer);
        Assert.Equal(
            "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":5,\"model\":\"m\",\"system_fingerprint\":null,"
            + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\\nb\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
            + "data: [DONE]\n\n",
            Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Writes_error_events()
    {
        var buffer = new ArrayBufferWriter<byte>();
        Sse.WriteError(buffer, ApiError.ServerError());
        Assert.Equal(
            "data: {\"error\":{\"message\":\"The server had an error while processing your request. Sorry about that!\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n",
            Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Consecutive_writes_to_different_buffers_do_not_mix()
    {
        var first = new ArrayBufferWriter<byte>();
        var second = new ArrayBufferWriter<byte>();
        Sse.WriteChunk(first, Chunk("one"));
        Sse.WriteChunk(second, Chunk("two"));
        Sse.WriteChunk(first, Chunk("three"));
        var text = Encoding.UTF8.GetString(first.WrittenSpan);
        Assert.Contains("one", text, StringComparison.Ordinal);
        Assert.Contains("three", text, StringComparison.Ordinal);
        Assert.DoesNotContain("two", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Writes_to_streams()
    {
        using var stream = new MemoryStream();
        await Sse.WriteChunkAsync(stream, Chunk("x"));
        await Sse.WriteDoneAsync(stream);
        var text = Encoding.UTF8.GetString(stream.ToArray());
        Assert.StartsWith("data: {", text, StringComparison.Ordinal);
        Assert.EndsWith("}\n\ndata: [DONE]\n\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parser_reads_back_what_the_writer_wrote()
    {
        var buffer = new ArrayBufferWriter<byte>();
        for (var i = 0; i < 3; i++)
        {
            Sse.WriteChunk(buffer, Chunk($"piece {i} ✓"));
        }

        Sse.WriteDone(buffer);
        using var stream = new MemoryStream(buffer.WrittenSpan.ToArray());
        var events = new List<SseEvent>();
        await foreach (var sseEvent in SseEventParser.ReadAllAsync(stream))
        {
            events.Add(sseEvent);
        }

        Assert.Equal(4, events.Count);
        Assert.True(events[3].IsDone);
        for (var i = 0; i < 3; i++)
        {
            var chunk = System.Text.Json.JsonSerializer.Deserialize(events[i].Data.Span, CapaJsonContext.Default.ChatCompletionChunk)!;
            Assert.Equal($"piece {i} ✓", chunk.Choices[0].Delta.Content);
            Assert.Equal("chatcmpl-1", chunk.Id);
        }
    }
}
