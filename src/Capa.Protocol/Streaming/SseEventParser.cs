using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;

namespace Capa.Protocol;

/// <summary>
/// Incremental parser of a <c>text/event-stream</c> (WHATWG HTML, "server-sent events"): bytes go in with
/// <see cref="Append"/> in pieces of any size, complete events come out of <see cref="TryRead"/>.
/// Handles CRLF, LF and CR line ends, comments, multi-line data, <c>event:</c> and <c>id:</c>, a leading BOM.
/// An event still open when the stream ends is discarded, as the standard says.
/// </summary>
public sealed class SseEventParser
{
    /// <summary>Default bound on one event's size and on one pending line.</summary>
    public const int DefaultMaxEventBytes = 16 * 1024 * 1024;

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private readonly int maxEventBytes;
    private readonly Queue<SseEvent> ready = new();
    private readonly ArrayBufferWriter<byte> data = new(256);
    private byte[] pending = new byte[1024];
    private int pendingStart;
    private int pendingEnd;
    private bool sawFirstBytes;
    private bool lastWasCr;
    private bool hasData;
    private string? eventType;
    private string? lastId;

    /// <summary>Creates a parser.</summary>
    /// <param name="maxEventBytes">Largest event (or line) accepted; more is an <see cref="InvalidDataException"/>.</param>
    public SseEventParser(int maxEventBytes = DefaultMaxEventBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEventBytes, 16);
        this.maxEventBytes = maxEventBytes;
    }

    /// <summary>Adds bytes read from the stream.</summary>
    /// <exception cref="InvalidDataException">An event or line is larger than the configured maximum.</exception>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (!sawFirstBytes && !bytes.IsEmpty)
        {
            // The standard strips one leading UTF-8 BOM; it may arrive split, so wait for three bytes.
            AppendPending(bytes);
            if (pendingEnd - pendingStart < 3 && Utf8Bom.StartsWith(pending.AsSpan(pendingStart, pendingEnd - pendingStart)))
            {
                return;
            }

            sawFirstBytes = true;
            if (pending.AsSpan(pendingStart, pendingEnd - pendingStart).StartsWith(Utf8Bom))
            {
                pendingStart += 3;
            }
        }
        else
        {
            AppendPending(bytes);
        }

        ParseLines();
    }

    /// <summary>Takes the next complete event, if any.</summary>
    public bool TryRead(out SseEvent sseEvent) => ready.TryDequeue(out sseEvent);

    /// <summary>
    /// Reads a whole stream and yields its events as they complete. Stops at the end of the stream
    /// (an unterminated last event is discarded); the <c>[DONE]</c> event is yielded like any other.
    /// </summary>
    public static async IAsyncEnumerable<SseEvent> ReadAllAsync(
        Stream stream,
        int maxEventBytes = DefaultMaxEventBytes,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var parser = new SseEventParser(maxEventBytes);
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    yield break;
                }

                parser.Append(buffer.AsSpan(0, read));
                while (parser.TryRead(out var sseEvent))
                {
                    yield return sseEvent;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void AppendPending(ReadOnlySpan<byte> bytes)
    {
        var live = pendingEnd - pendingStart;
        if (pendingEnd + bytes.Length > pending.Length)
        {
            var target = live + bytes.Length <= pending.Length / 2 ? pending : new byte[Math.Max(pending.Length * 2, live + bytes.Length)];
            pending.AsSpan(pendingStart, live).CopyTo(target);
            pending = target;
            pendingStart = 0;
            pendingEnd = live;
        }

        bytes.CopyTo(pending.AsSpan(pendingEnd));
        pendingEnd += bytes.Length;
    }

    private void ParseLines()
    {
        while (pendingStart < pendingEnd)
        {
            var rest = pending.AsSpan(pendingStart, pendingEnd - pendingStart);
            if (lastWasCr)
            {
                // The \n of a CRLF that arrived in the next piece.
                lastWasCr = false;
                if (rest[0] == (byte)'\n')
                {
                    pendingStart++;
                    continue;
                }
            }

            var end = rest.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                // What is left is one partial line: bound it, so a stream without line ends cannot grow memory.
                if (rest.Length > maxEventBytes + 8)
                {
                    throw new InvalidDataException($"A server-sent event line is longer than {maxEventBytes} bytes.");
                }

                return;
            }

            ProcessLine(rest[..end]);
            var consumed = end + 1;
            if (rest[end] == (byte)'\r')
            {
                if (end + 1 < rest.Length)
                {
                    if (rest[end + 1] == (byte)'\n')
                    {
                        consumed++;
                    }
                }
                else
                {
                    lastWasCr = true;
                }
            }

            pendingStart += consumed;
        }

        pendingStart = 0;
        pendingEnd = 0;
    }

    private void ProcessLine(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty)
        {
            Dispatch();
            return;
        }

        if (line[0] == (byte)':')
        {
            return;
        }

        var colon = line.IndexOf((byte)':');
        ReadOnlySpan<byte> field;
        ReadOnlySpan<byte> value;
        if (colon < 0)
        {
            field = line;
            value = default;
        }
        else
        {
            field = line[..colon];
            value = line[(colon + 1)..];
            if (!value.IsEmpty && value[0] == (byte)' ')
            {
                value = value[1..];
            }
        }

        if (field.SequenceEqual("data"u8))
        {
            if (data.WrittenCount + value.Length + 1 > maxEventBytes)
            {
                throw new InvalidDataException($"A server-sent event is larger than {maxEventBytes} bytes.");
            }

            data.Write(value);
            data.Write("\n"u8);
            hasData = true;
        }
        else if (field.SequenceEqual("event"u8))
        {
            eventType = Encoding.UTF8.GetString(value);
        }
        else if (field.SequenceEqual("id"u8))
        {
            if (!value.Contains((byte)0))
            {
                lastId = Encoding.UTF8.GetString(value);
            }
        }

        // "retry" and unknown fields are ignored.
    }

    private void Dispatch()
    {
        if (hasData)
        {
            // Drop the \n added after the last data line.
            var payload = data.WrittenSpan[..^1].ToArray();
            ready.Enqueue(new SseEvent(eventType, payload, lastId));
        }

        data.ResetWrittenCount();
        hasData = false;
        eventType = null;
    }
}
