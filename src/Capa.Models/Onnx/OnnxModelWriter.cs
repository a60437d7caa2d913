using System.Globalization;

namespace Capa.Models.Onnx;

/// <summary>Options for <see cref="OnnxModelWriter.Write"/>.</summary>
public sealed record OnnxWriteOptions
{
    /// <summary>ONNX IR version written into the model (8 goes with opset 17).</summary>
    public long IrVersion { get; init; } = 8;

    /// <summary>Operator sets the model imports.</summary>
    public IReadOnlyList<OnnxOpset> Opsets { get; init; } = [new("", 17), new("com.microsoft", 1)];

    /// <summary>The <c>producer_name</c> recorded in the model.</summary>
    public string ProducerName { get; init; } = "capa";

    /// <summary>The <c>producer_version</c> recorded in the model.</summary>
    public string ProducerVersion { get; init; } = "1";

    /// <summary>
    /// When set, initializers of at least <see cref="ExternalDataMinBytes"/> bytes go to this file (a name
    /// relative to the model, e.g. <c>model.onnx_data</c>) instead of the model; needed past protobuf's 2 GB limit.
    /// </summary>
    public string? ExternalDataFileName { get; init; }

    /// <summary>Smaller initializers stay inside the model even when external data is used.</summary>
    public long ExternalDataMinBytes { get; init; } = 1024;

    /// <summary>External tensors start at multiples of this many bytes, so a runtime can map them in place.</summary>
    public int ExternalDataAlignment { get; init; } = 4096;
}

/// <summary>Serializes an <see cref="OnnxGraph"/> as an ONNX <c>ModelProto</c>, optionally with external data.</summary>
public static class OnnxModelWriter
{
    // Field numbers from onnx/onnx.proto.
    private const int ModelIrVersion = 1, ModelProducerName = 2, ModelProducerVersion = 3, ModelGraph = 7, ModelOpsetImport = 8;
    private const int OpsetDomain = 1, OpsetVersion = 2;
    private const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5, NodeDomain = 7;
    private const int AttrName = 1, AttrF = 2, AttrI = 3, AttrS = 4, AttrG = 6, AttrInts = 8, AttrType = 20;
    private const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9, TensorExternalData = 13, TensorDataLocation = 14;
    private const int EntryKey = 1, EntryValue = 2;
    private const int ValueInfoName = 1, ValueInfoType = 2;
    private const int TypeTensor = 1, TensorTypeElem = 1, TensorTypeShape = 2, ShapeDim = 1, DimValue = 1, DimParam = 2;

    /// <summary>
    /// Writes <paramref name="graph"/> to <paramref name="modelPath"/> (and its external data file beside it
    /// when <see cref="OnnxWriteOptions.ExternalDataFileName"/> is set). Output depends only on the inputs.
    /// </summary>
    public static void Write(OnnxGraph graph, string modelPath, OnnxWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        options ??= new OnnxWriteOptions();
        string? directory = Path.GetDirectoryName(Path.GetFullPath(modelPath));
        FileStream? external = null;
        try
        {
            if (options.ExternalDataFileName is { } externalName)
            {
                if (externalName.Contains('/', StringComparison.Ordinal) || externalName.Contains('\\', StringComparison.Ordinal))
                {
                    throw new ArgumentException("The external data file name must not contain a directory.", nameof(options));
                }

                external = new FileStream(Path.Combine(directory ?? ".", externalName), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            }

            ProtoWriter model = BuildModel(graph, options, external);
            using var output = new FileStream(modelPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            output.Write(model.WrittenSpan);
        }
        finally
        {
            external?.Dispose();
        }
    }

    /// <summary>Serializes a graph whose initializers all stay inside the model, returning the model's bytes.</summary>
    public static byte[] ToBytes(OnnxGraph graph, OnnxWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        options ??= new OnnxWriteOptions();
        if (options.ExternalDataFileName is not null)
        {
            throw new ArgumentException("ToBytes keeps every initializer inside the model; use Write for external data.", nameof(options));
        }

        return BuildModel(graph, options, null).WrittenSpan.ToArray();
    }

    private static ProtoWriter BuildModel(OnnxGraph graph, OnnxWriteOptions options, FileStream? external)
    {
        var model = new ProtoWriter();
        model.WriteInt64(ModelIrVersion, options.IrVersion);
        model.WriteString(ModelProducerName, options.ProducerName);
        model.WriteString(ModelProducerVersion, options.ProducerVersion);
        model.WriteMessage(ModelGraph, BuildGraph(graph, options, external));
        foreach (OnnxOpset opset in options.Opsets)
        {
            var o = new ProtoWriter();
            o.WriteString(OpsetDomain, opset.Domain);
            o.WriteInt64(OpsetVersion, opset.Version);
            model.WriteMessage(ModelOpsetImport, o);
        }

        return model;
    }

    private static ProtoWriter BuildGraph(OnnxGraph graph, OnnxWriteOptions options, FileStream? external)
    {
        var g = new ProtoWriter();
        foreach (OnnxNode node in graph.Nodes)
        {
            g.WriteMessage(GraphNode, BuildNode(node, options, external));
        }

        g.WriteString(GraphName, graph.Name);
        foreach (OnnxInitializer initializer in graph.Initializers)
        {
            g.WriteMessage(GraphInitializer, BuildTensor(initializer, options, external));
        }

        foreach (OnnxValueInfo input in graph.Inputs)
        {
            g.WriteMessage(GraphInput, BuildValueInfo(input));
        }

        foreach (OnnxValueInfo output in graph.Outputs)
        {
            g.WriteMessage(GraphOutput, BuildValueInfo(output));
        }

        return g;
    }

    private static ProtoWriter BuildNode(OnnxNode node, OnnxWriteOptions options, FileStream? external)
    {
        var n = new ProtoWriter();
        foreach (string input in node.Inputs)
        {
            n.WriteString(NodeInput, input);
        }

        foreach (string output in node.Outputs)
        {
            n.WriteString(NodeOutput, output);
        }

        n.WriteString(NodeName, node.Name);
        n.WriteString(NodeOpType, node.OpType);
        foreach (OnnxAttribute attribute in node.Attributes)
        {
            n.WriteMessage(NodeAttribute, BuildAttribute(attribute, options, external));
        }

        if (node.Domain.Length > 0)
        {
            n.WriteString(NodeDomain, node.Domain);
        }

        return n;
    }

    private static ProtoWriter BuildAttribute(OnnxAttribute attribute, OnnxWriteOptions options, FileStream? external)
    {
        var a = new ProtoWriter();
        a.WriteString(AttrName, attribute.Name);
        switch (attribute.Kind)
        {
            case OnnxAttributeKind.Float:
                a.WriteFloat(AttrF, attribute.FloatValue);
                break;
            case OnnxAttributeKind.Int:
                a.WriteInt64(AttrI, attribute.IntValue);
                break;
            case OnnxAttributeKind.String:
                a.WriteBytes(AttrS, System.Text.Encoding.UTF8.GetBytes(attribute.StringValue));
                break;
            case OnnxAttributeKind.Graph:
                a.WriteMessage(AttrG, BuildGraph(attribute.GraphValue!, options, external));
                break;
            case OnnxAttributeKind.Ints:
                // Repeated int64 in proto2 (onnx.proto) is unpacked: one varint record per element.
                foreach (long v in attribute.IntsValue)
                {
                    a.WriteInt64(AttrInts, v);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(attribute), attribute.Kind, "Unsupported attribute kind.");
        }

        a.WriteInt32(AttrType, (int)attribute.Kind);
        return a;
    }

    private static ProtoWriter BuildTensor(OnnxInitializer initializer, OnnxWriteOptions options, FileStream? external)
    {
        var t = new ProtoWriter();
        foreach (long d in initializer.Dims)
        {
            t.WriteInt64(TensorDims, d);
        }

        t.WriteInt32(TensorDataType, (int)initializer.DataType);
        t.WriteString(TensorName, initializer.Name);
        byte[] data = initializer.GetBytes();
        if (external is not null && data.LongLength >= options.ExternalDataMinBytes)
        {
            long offset = external.Position;
            long aligned = (offset + options.ExternalDataAlignment - 1) / options.ExternalDataAlignment * options.ExternalDataAlignment;
            if (aligned > offset)
            {
                external.Write(new byte[aligned - offset]);
            }

            external.Write(data);
            WriteEntry(t, "location", options.ExternalDataFileName!);
            WriteEntry(t, "offset", aligned.ToString(CultureInfo.InvariantCulture));
            WriteEntry(t, "length", data.LongLength.ToString(CultureInfo.InvariantCulture));
            t.WriteInt32(TensorDataLocation, 1);
        }
        else
        {
            t.WriteBytes(TensorRawData, data);
        }

        return t;
    }

    private static void WriteEntry(ProtoWriter tensor, string key, string value)
    {
        var e = new ProtoWriter();
        e.WriteString(EntryKey, key);
        e.WriteString(EntryValue, value);
        tensor.WriteMessage(TensorExternalData, e);
    }

    private static ProtoWriter BuildValueInfo(OnnxValueInfo info)
    {
        var shape = new ProtoWriter();
        foreach (OnnxDim dim in info.Shape)
        {
            var d = new ProtoWriter();
            if (dim.Value is { } value)
            {
                d.WriteInt64(DimValue, value);
            }
            else
            {
                d.WriteString(DimParam, dim.Param ?? "");
            }

            shape.WriteMessage(ShapeDim, d);
        }

        var tensorType = new ProtoWriter();
        tensorType.WriteInt32(TensorTypeElem, (int)info.DataType);
        tensorType.WriteMessage(TensorTypeShape, shape);
        var type = new ProtoWriter();
        type.WriteMessage(TypeTensor, tensorType);
        var v = new ProtoWriter();
        v.WriteString(ValueInfoName, info.Name);
        v.WriteMessage(ValueInfoType, type);
        return v;
    }
}
