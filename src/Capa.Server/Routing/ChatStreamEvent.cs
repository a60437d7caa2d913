using Capa.Protocol;

namespace Capa.Server.Routing;

/// <summary>
/// One event of a completion stream: a typed chunk, or the raw JSON of one SSE <c>data:</c> field (a chunk from an
/// upstream, forwarded byte for byte so pass-through stays exact).
/// </summary>
public readonly struct ChatStreamEvent
{
    private ChatStreamEvent(ChatCompletionChunk? chunk, ReadOnlyMemory<byte> data)
    {
        Chunk = chunk;
        Data = data;
    }

    /// <summary>The typed chunk, when the provider built one.</summary>
    public ChatCompletionChunk? Chunk { get; }

    /// <summary>The JSON of the event's <c>data:</c> field, without the prefix or line breaks.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>A typed chunk, serialized by the server.</summary>
    public static ChatStreamEvent FromChunk(ChatCompletionChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        return new(chunk, default);
    }

    /// <summary>
    /// A raw event payload (single-line UTF-8 JSON). The buffer must stay unchanged until the enumerator advances.
    /// </summary>
    public static ChatStreamEvent FromData(ReadOnlyMemory<byte> data) => new(null, data);
}
