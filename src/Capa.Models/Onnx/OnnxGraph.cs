namespace Capa.Models.Onnx;

/// <summary>ONNX <c>TensorProto.DataType</c> values used by Capa's writer.</summary>
public enum OnnxDataType
{
    /// <summary>32-bit IEEE float.</summary>
    Float = 1,

    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,

    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,

    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,

    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,

    /// <summary>Boolean (one byte per element).</summary>
    Bool = 9,

    /// <summary>16-bit IEEE float.</summary>
    Float16 = 10,
}

/// <summary>One dimension of a value's shape: a fixed size or a symbolic name such as <c>batch_size</c>.</summary>
public readonly record struct OnnxDim(long? Value, string? Param)
{
    /// <summary>A fixed dimension.</summary>
    public static implicit operator OnnxDim(long value) => new(value, null);

    /// <summary>A symbolic dimension.</summary>
    public static implicit operator OnnxDim(string param) => new(null, param);

    /// <summary>A fixed dimension.</summary>
    public static OnnxDim FromInt64(long value) => new(value, null);

    /// <summary>A symbolic dimension.</summary>
    public static OnnxDim FromString(string param) => new(null, param);
}

/// <summary>A graph input or output: name, element type and shape.</summary>
public sealed record OnnxValueInfo(string Name, OnnxDataType DataType, IReadOnlyList<OnnxDim> Shape);

/// <summary>The kinds of node attributes the writer supports.</summary>
public enum OnnxAttributeKind
{
    /// <summary>One float.</summary>
    Float = 1,

    /// <summary>One int64.</summary>
    Int = 2,

    /// <summary>A UTF-8 string.</summary>
    String = 3,

    /// <summary>A nested graph (the branches of <c>If</c>).</summary>
    Graph = 5,

    /// <summary>A list of int64.</summary>
    Ints = 7,
}

/// <summary>A node attribute. Create with <see cref="Int"/>, <see cref="Float"/>, <see cref="Ints"/> or <see cref="String"/>.</summary>
public sealed record OnnxAttribute
{
    private OnnxAttribute(string name, OnnxAttributeKind kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Kind = kind;
    }

    /// <summary>The attribute's name.</summary>
    public string Name { get; }

    /// <summary>Which value the attribute carries.</summary>
    public OnnxAttributeKind Kind { get; }

    /// <summary>The value of an <see cref="OnnxAttributeKind.Int"/> attribute.</summary>
    public long IntValue { get; private init; }

    /// <summary>The value of a <see cref="OnnxAttributeKind.Float"/> attribute.</summary>
    public float FloatValue { get; private init; }

    /// <summary>The value of a <see cref="OnnxAttributeKind.String"/> attribute.</summary>
    public string StringValue { get; private init; } = "";

    /// <summary>The value of an <see cref="OnnxAttributeKind.Ints"/> attribute.</summary>
    public IReadOnlyList<long> IntsValue { get; private init; } = [];

    /// <summary>The value of a <see cref="OnnxAttributeKind.Graph"/> attribute.</summary>
    public OnnxGraph? GraphValue { get; private init; }

    /// <summary>An int64 attribute.</summary>
    public static OnnxAttribute Int(string name, long value) => new(name, OnnxAttributeKind.Int) { IntValue = value };

    /// <summary>A float attribute.</summary>
    public static OnnxAttribute Float(string name, float value) => new(name, OnnxAttributeKind.Float) { FloatValue = value };

    /// <summary>A string attribute.</summary>
    public static OnnxAttribute String(string name, string value) =>
        new(name, OnnxAttributeKind.String) { StringValue = value ?? throw new ArgumentNullException(nameof(value)) };

    /// <summary>A graph attribute, such as the <c>then_branch</c> of an <c>If</c> node.</summary>
    public static OnnxAttribute Graph(string name, OnnxGraph value) =>
        new(name, OnnxAttributeKind.Graph) { GraphValue = value ?? throw new ArgumentNullException(nameof(value)) };

    /// <summary>An int64-list attribute.</summary>
    public static OnnxAttribute Ints(string name, params long[] values) =>
        new(name, OnnxAttributeKind.Ints) { IntsValue = values ?? throw new ArgumentNullException(nameof(values)) };
}

/// <summary>A graph node. An empty input name marks an omitted optional input, as in ONNX.</summary>
public sealed record OnnxNode(
    string Name,
    string OpType,
    string Domain,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<OnnxAttribute> Attributes);

/// <summary>
/// A constant tensor of the graph. Its bytes (little-endian, row-major) are produced on demand when the
/// model is written, so a multi-gigabyte model never holds all its weights in memory at once.
/// </summary>
public sealed class OnnxInitializer
{
    private readonly Func<byte[]> _produce;

    /// <summary>Creates an initializer whose bytes <paramref name="produce"/> returns when written.</summary>
    public OnnxInitializer(string name, OnnxDataType dataType, IReadOnlyList<long> dims, Func<byte[]> produce)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(dims);
        ArgumentNullException.ThrowIfNull(produce);
        Name = name;
        DataType = dataType;
        Dims = dims;
        _produce = produce;
        long count = 1;
        foreach (long d in dims)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(dims));
            count *= d;
        }

        ElementCount = count;
    }

    /// <summary>The tensor's name, referenced by node inputs.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public OnnxDataType DataType { get; }

    /// <summary>The dimensions (empty for a scalar).</summary>
    public IReadOnlyList<long> Dims { get; }

    /// <summary>The number of elements.</summary>
    public long ElementCount { get; }

    /// <summary>The size of the tensor's raw data in bytes.</summary>
    public long ByteLength => ElementCount * ElementSize(DataType);

    /// <summary>Produces the raw bytes, checking that their length matches the shape.</summary>
    public byte[] GetBytes()
    {
        byte[] bytes = _produce();
        if (bytes.LongLength != ByteLength)
        {
            throw new InvalidOperationException(
                $"Initializer '{Name}' produced {bytes.LongLength} bytes; its shape needs {ByteLength}.");
        }

        return bytes;
    }

    /// <summary>The size in bytes of one element of <paramref name="type"/>.</summary>
    public static int ElementSize(OnnxDataType type) => type switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 => 4,
        OnnxDataType.Int64 => 8,
        OnnxDataType.Float16 => 2,
        OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unsupported ONNX element type."),
    };
}

/// <summary>A complete ONNX graph: nodes in topological order, initializers, inputs and outputs.</summary>
public sealed record OnnxGraph(
    string Name,
    IReadOnlyList<OnnxNode> Nodes,
    IReadOnlyList<OnnxInitializer> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs,
    IReadOnlyList<OnnxValueInfo> Outputs);

/// <summary>An operator set a model imports.</summary>
public sealed record OnnxOpset(string Domain, long Version);
