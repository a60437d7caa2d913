using Capa.Models.Onnx;

namespace Capa.Models.Tests.Onnx;

public sealed class ProtoWriterTests
{
    [Fact]
    public void Varint_fields_use_base_128_little_endian_groups()
    {
        var w = new ProtoWriter();
        w.WriteInt64(1, 300);
        Assert.Equal([0x08, 0xAC, 0x02], w.WrittenSpan.ToArray());
    }

    [Fact]
    public void Negative_int64_takes_ten_bytes()
    {
        var w = new ProtoWriter();
        w.WriteInt64(3, -1);
        Assert.Equal([0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], w.WrittenSpan.ToArray());
    }

    [Fact]
    public void Strings_floats_and_nested_messages_are_length_delimited_or_fixed32()
    {
        var inner = new ProtoWriter();
        inner.WriteString(2, "hi");
        var w = new ProtoWriter();
        w.WriteFloat(2, 1f);
        w.WriteMessage(7, inner);
        Assert.Equal([0x15, 0x00, 0x00, 0x80, 0x3F, 0x3A, 0x04, 0x12, 0x02, (byte)'h', (byte)'i'], w.WrittenSpan.ToArray());
    }

    [Fact]
    public void Large_field_numbers_and_packed_values_encode_their_tags()
    {
        var w = new ProtoWriter();
        w.WriteInt32(20, 7);
        w.WritePackedInt64(1, [1, 150]);
        w.WritePackedInt64(2, []);
        Assert.Equal([0xA0, 0x01, 0x07, 0x0A, 0x03, 0x01, 0x96, 0x01], w.WrittenSpan.ToArray());
    }

    [Fact]
    public void Field_numbers_start_at_one()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProtoWriter().WriteInt64(0, 1));
    }
}
