using System.Buffers;

namespace Capa.Engine.Text.Generation;

/// <summary>Protobuf wire helpers for the in-memory ONNX rewriters (only what they need: varints, tags, length-delimited fields).</summary>
internal static class OnnxProto
{
    public static void WriteTag(IBufferWriter<byte> output, int field, int wire) => WriteVarint(output, ((ulong)field << 3) | (uint)wire);

    public static void WriteVarint(IBufferWriter<byte> output, ulong value)
    {
        var span = output.GetSpan(10);
        var n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[n++] = (byte)value;
        output.Advance(n);
    }
}
