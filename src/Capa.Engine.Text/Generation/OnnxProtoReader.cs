namespace Capa.Engine.Text.Generation;

/// <summary>Reads protobuf fields from an ONNX message without materialising it.</summary>
internal ref struct OnnxProtoReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;

    public int Position { get; private set; }

    public readonly bool End => Position >= _data.Length;

    public (int Field, int Wire) Tag()
    {
        var tag = Varint();
        return ((int)(tag >> 3), (int)(tag & 7));
    }

    public ulong Varint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (Position >= _data.Length)
            {
                throw new InvalidDataException("Truncated varint in the ONNX model.");
            }

            var b = _data[Position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new InvalidDataException("Malformed varint in the ONNX model.");
    }

    public ReadOnlySpan<byte> Bytes()
    {
        var length = (int)Varint();
        if (length < 0 || Position + length > _data.Length)
        {
            throw new InvalidDataException("Truncated field in the ONNX model.");
        }

        var bytes = _data.Slice(Position, length);
        Position += length;
        return bytes;
    }

    public void Skip(int wire)
    {
        switch (wire)
        {
            case 0:
                Varint();
                break;
            case 1:
                Position += 8;
                break;
            case 2:
                Bytes();
                break;
            case 5:
                Position += 4;
                break;
            default:
                throw new InvalidDataException($"Unsupported protobuf wire type {wire} in the ONNX model.");
        }

        if (Position > _data.Length)
        {
            throw new InvalidDataException("Truncated field in the ONNX model.");
        }
    }
}
