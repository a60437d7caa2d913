using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Capa.Protocol;

/// <summary>
/// Writes server-sent events the way OpenAI streams them: <c>data: {json}\n\n</c> per chunk and
/// <c>data: [DONE]\n\n</c> at the end. JSON goes straight into the output buffer through
/// <see cref="Utf8JsonWriter"/>; no intermediate strings.
/// </summary>
public static class Sse
{
    /// <summary>The <c>Content-Type</c> of an event stream.</summary>
    public const string ContentType = "text/event-stream";

    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;

    private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

    private static ReadOnlySpan<byte> DoneEvent => "data: [DONE]\n\n"u8;

    private static readonly ReadOnlyMemory<byte> DoneEventBytes = "data: [DONE]\n\n"u8.ToArray();

    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true, Encoder = CapaJsonContext.WireEncoder };

    [ThreadStatic]
    private static Utf8JsonWriter? cachedWriter;

    /// <summary>Writes <c>data: {chunk}\n\n</c>.</summary>
    public static void WriteChunk(IBufferWriter<byte> output, ChatCompletionChunk chunk) =>
        WriteData(output, chunk, CapaJsonContext.Default.ChatCompletionChunk);

    /// <summary>Writes <c>data: {"error":{...}}\n\n</c>, OpenAI's way of failing a stream already under way.</summary>
    public static void WriteError(IBufferWriter<byte> output, ApiError error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        output.Write(DataPrefix);
        var writer = RentWriter(output);
        try
        {
            error.WriteTo(writer);
            writer.Flush();
        }
        finally
        {
            ReturnWriter(writer);
        }

        output.Write(EventEnd);
    }

    /// <summary>Writes <c>data: {json}\n\n</c> for any value with source-generated metadata.</summary>
    public static void WriteData<T>(IBufferWriter<byte> output, T value, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(typeInfo);
        output.Write(DataPrefix);
        var writer = RentWriter(output);
        try
        {
            // Compact JSON never contains a raw line break, so one data line always holds the whole payload.
            JsonSerializer.Serialize(writer, value, typeInfo);
            writer.Flush();
        }
        finally
        {
            ReturnWriter(writer);
        }

        output.Write(EventEnd);
    }

    /// <summary>Writes the terminator <c>data: [DONE]\n\n</c>.</summary>
    public static void WriteDone(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(DoneEvent);
    }

    /// <summary>Writes one chunk event to a stream and flushes it.</summary>
    public static async ValueTask WriteChunkAsync(Stream stream, ChatCompletionChunk chunk, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new ArrayBufferWriter<byte>(512);
        WriteChunk(buffer, chunk);
        await stream.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the terminator to a stream and flushes it.</summary>
    public static async ValueTask WriteDoneAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        await stream.WriteAsync(DoneEventBytes, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static Utf8JsonWriter RentWriter(IBufferWriter<byte> output)
    {
        // One writer per thread, taken out of the slot while in use so that a nested call gets its own.
        var writer = cachedWriter;
        cachedWriter = null;
        if (writer is null)
        {
            return new Utf8JsonWriter(output, WriterOptions);
        }

        writer.Reset(output);
        return writer;
    }

    private static void ReturnWriter(Utf8JsonWriter writer)
    {
        // Drop the reference to the output buffer before caching.
        writer.Reset(Stream.Null);
        cachedWriter = writer;
    }
}
