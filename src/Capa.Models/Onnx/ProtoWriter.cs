using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Capa.Models.Onnx;

/// <summary>
/// A minimal protocol-buffers wire-format writer: just the encodings ONNX's messages use (varints, fixed32,
/// length-delimited bytes, strings and nested messages). Messages are built bottom-up: a nested message is
/// written into its own <see cref="ProtoWriter"/> and then copied into its parent, so its length is known.
/// </summary>
public sealed class ProtoWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new();

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    /// <summary>The number of bytes written so far.</summary>
    public int Length => _buffer.WrittenCount;

    /// <summary>Writes a varint-encoded int64 field (negative values take ten bytes, as protobuf specifies).</summary>
    public void WriteInt64(int field, long value)
    {
        WriteTag(field, WireType.Varint);
        WriteVarint(unchecked((ulong)value));
    }

    /// <summary>Writes a varint-encoded int32 or enum field (negative values are sign-extended to 64 bits).</summary>
    public void WriteInt32(int field, int value) => WriteInt64(field, value);

    /// <summary>Writes a fixed32 float field.</summary>
    public void WriteFloat(int field, float value)
    {
        WriteTag(field, WireType.Fixed32);
        Span<byte> span = _buffer.GetSpan(4);
        BinaryPrimitives.WriteSingleLittleEndian(span, value);
        _buffer.Advance(4);
    }

    /// <summary>Writes a UTF-8 string field.</summary>
    public void WriteString(int field, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int count = Encoding.UTF8.GetByteCount(value);
        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)count);
        Span<byte> span = _buffer.GetSpan(count);
        Encoding.UTF8.GetBytes(value, span);
        _buffer.Advance(count);
    }

    /// <summary>Writes a bytes field.</summary>
    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)value.Length);
        _buffer.Write(value);
    }

    /// <summary>Writes a nested message field from another writer's bytes.</summary>
    public void WriteMessage(int field, ProtoWriter message)
    {
        ArgumentNullException.ThrowIfNull(message);
        WriteBytes(field, message.WrittenSpan);
    }

    /// <summary>Writes a packed repeated int64 field (one length-delimited record of varints).</summary>
    public void WritePackedInt64(int field, ReadOnlySpan<long> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        var inner = new ProtoWriter();
        foreach (long v in values)
        {
            inner.WriteVarint(unchecked((ulong)v));
        }

        WriteBytes(field, inner.WrittenSpan);
    }

    /// <summary>Writes a packed repeated float field.</summary>
    public void WritePackedFloat(int field, ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)values.Length * 4);
        Span<byte> span = _buffer.GetSpan(values.Length * 4);
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(span[(i * 4)..], values[i]);
        }

        _buffer.Advance(values.Length * 4);
    }

    /// <summary>Writes a field key: the field number shifted left by three, or'ed with the wire type.</summary>
    public void WriteTag(int field, WireType wireType)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(field, 1);
        WriteVarint(((ulong)(uint)field << 3) | (uint)wireType);
    }

    /// <summary>Writes a base-128 varint.</summary>
    public void WriteVarint(ulong value)
    {
        Span<byte> span = _buffer.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[n++] = (byte)value;
        _buffer.Advance(n);
    }
}

/// <summary>The protobuf wire types ONNX uses.</summary>
public enum WireType
{
    /// <summary>int32, int64, uint64, bool, enum.</summary>
    Varint = 0,

    /// <summary>fixed64, double.</summary>
    Fixed64 = 1,

    /// <summary>string, bytes, nested messages, packed repeated fields.</summary>
    LengthDelimited = 2,

    /// <summary>fixed32, float.</summary>
    Fixed32 = 5,
}
