using System.Buffers;
using System.IO.Pipelines;

namespace Capa.Server.Providers.Upstream;

/// <summary>
/// Reads the <c>data</c> payloads of a server-sent event stream, one event at a time, without copying more than the
/// payload. Comments and other fields are skipped; multi-line data is joined with <c>\n</c> as the SSE spec says.
/// </summary>
internal sealed class SseDataReader
{
    private readonly PipeReader _reader;
    private readonly int _maxEventBytes;
    private readonly ArrayBufferWriter<byte> _data = new(4096);
    private bool _hasData;
    private bool _completed;

    public SseDataReader(PipeReader reader, int maxEventBytes)
    {
        _reader = reader;
        _maxEventBytes = maxEventBytes;
    }

    /// <summary>The payload of the last event read; valid until the next call to <see cref="ReadAsync"/>.</summary>
    public ReadOnlyMemory<byte> Data => _data.WrittenMemory;

    /// <summary>Reads the next event with data; <see langword="false"/> at the end of the stream.</summary>
    /// <param name="beforeRead">Called before each read from the connection (re-arms an idle timeout).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="InvalidDataException">An event is larger than the limit.</exception>
    public async ValueTask<bool> ReadAsync(Action beforeRead, CancellationToken cancellationToken)
    {
        _data.ResetWrittenCount();
        _hasData = false;
        while (!_completed)
        {
            beforeRead();
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var dispatched = ConsumeLines(ref buffer, result.IsCompleted);
            if (dispatched)
            {
                // Only what was consumed counts as examined, so further buffered events are read without waiting.
                _reader.AdvanceTo(buffer.Start);
                return true;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                _completed = true;
            }

            if (!result.IsCompleted && buffer.Length > _maxEventBytes)
            {
                throw new InvalidDataException("An upstream event is larger than the limit.");
            }
        }

        // A stream that ends without a blank line still delivers its last event.
        if (_hasData)
        {
            _hasData = false;
            return true;
        }

        return false;
    }

    private bool ConsumeLines(ref ReadOnlySequence<byte> buffer, bool isFinal)
    {
        var reader = new SequenceReader<byte>(buffer);
        try
        {
            while (true)
            {
                ReadOnlySequence<byte> line;
                if (!reader.TryReadTo(out line, (byte)'\n'))
                {
                    if (!isFinal || reader.End)
                    {
                        return false;
                    }

                    line = reader.UnreadSequence;
                    reader.AdvanceToEnd();
                }

                if (ProcessLine(line))
                {
                    return true;
                }
            }
        }
        finally
        {
            buffer = buffer.Slice(reader.Position);
        }
    }

    private bool ProcessLine(ReadOnlySequence<byte> line)
    {
        if (!line.IsEmpty && line.Slice(line.Length - 1).FirstSpan[0] == (byte)'\r')
        {
            line = line.Slice(0, line.Length - 1);
        }

        if (line.IsEmpty)
        {
            if (_hasData)
            {
                _hasData = false;
                return true;
            }

            return false;
        }

        Span<byte> head = stackalloc byte[6];
        var headLength = (int)Math.Min(line.Length, head.Length);
        line.Slice(0, headLength).CopyTo(head);
        if (headLength < 5 || !head[..5].SequenceEqual("data:"u8))
        {
            // Comments (": keep-alive"), event:, id:, retry: carry nothing a chat client reads.
            return false;
        }

        var payload = line.Slice(headLength == 6 && head[5] == (byte)' ' ? 6 : 5);
        if (_data.WrittenCount + payload.Length + 1 > _maxEventBytes)
        {
            throw new InvalidDataException("An upstream event is larger than the limit.");
        }

        if (_hasData)
        {
            _data.Write("\n"u8);
        }

        foreach (var segment in payload)
        {
            _data.Write(segment.Span);
        }

        _hasData = true;
        return false;
    }
}
