using System.Buffers;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// Protobuf wire helpers for the in-memory ONNX rewriters (only what they need: varints, tags, length-delimited fields),
/// and the field numbers of onnx.proto they read and write.
/// </summary>
internal static class OnnxProto
{
    public const int ModelGraphField = 7;
    public const int ModelOpsetField = 8;

    public const int OpsetDomainField = 1;
    public const int OpsetVersionField = 2;

    public const int GraphNodeField = 1;
    public const int GraphInitializerField = 5;
    public const int GraphInputField = 11;
    public const int GraphOutputField = 12;

    public const int NodeInputField = 1;
    public const int NodeOutputField = 2;
    public const int NodeNameField = 3;
    public const int NodeOpTypeField = 4;
    public const int NodeAttributeField = 5;
    public const int NodeDomainField = 7;

    public const int AttributeNameField = 1;
    public const int AttributeFloatField = 2;
    public const int AttributeTypeInt = 2;
    public const int AttributeIntField = 3;
    public const int AttributeTensorField = 5;
    public const int AttributeGraphField = 6;
    public const int AttributeIntsField = 8;
    public const int AttributeGraphsField = 11;
    public const int AttributeTypeField = 20;

    public const int TensorDimsField = 1;
    public const int TensorDataTypeField = 2;
    public const int TensorFloatDataField = 4;
    public const int TensorInt64DataField = 7;
    public const int TensorInt64 = 7;
    public const int TensorNameField = 8;
    public const int TensorRawDataField = 9;

    /// <summary>The first length-delimited field <paramref name="wanted"/> of <paramref name="message"/> as UTF-8 text, or null.</summary>
    public static string? FirstString(ReadOnlySpan<byte> message, int wanted)
    {
        var reader = new OnnxProtoReader(message);
        while (!reader.End)
        {
            var (field, wire) = reader.Tag();
            if (field == wanted && wire == 2)
            {
                return System.Text.Encoding.UTF8.GetString(reader.Bytes());
            }

            reader.Skip(wire);
        }

        return null;
    }

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
