using System.Buffers;
using System.Text;
using static Capa.Engine.Text.Generation.OnnxProto;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// Rewrites a decoder graph, in memory, so that its vocabulary projection (<c>lm_head</c>) runs for the last position of
/// each forward only: a <c>Gather</c> of position −1 on the sequence axis is put in front of the projection. The engine
/// reads nothing but the last position's logits, so a prefill chunk of n tokens no longer computes n − 1 rows of
/// [hidden × vocabulary] products it throws away (for Qwen2.5-0.5B shapes about a fifth of the prefill's arithmetic, and
/// n × 600 KB of logits). Each remaining row is computed from the same inputs in the same order, so the logits are
/// bitwise those of the full projection's last row (tests prove it per family and weight format).
/// </summary>
/// <remarks>
/// Recognised head shapes, walking back from the <c>logits</c> output through element-wise ops (<c>Cast</c>, the
/// soft-capping <c>Div</c>/<c>Tanh</c>/<c>Mul</c>): a <c>MatMul</c> or <c>com.microsoft.MatMulNBits</c> on the
/// [batch, sequence, hidden] states (optimum's and onnxruntime-genai's exports), or a tied-embedding <c>Gemm</c> between
/// two <c>Reshape</c>s, whose last <c>Reshape</c> then gets the shape [batch, 1, −1]. Any other graph is left unchanged
/// (the engine then bounds its prefill chunks by the size of their logits instead).
/// <para>
/// The rewrite is bitwise only where the head's kernel gives a row the same bits alone as among other rows. That depends
/// on the CPU (measured with ONNX Runtime 1.31, <c>capa-bench --batch-probe</c>): <c>MatMul</c> and <c>MatMulNBits</c> at
/// <c>accuracy_level</c> 4 are row-invariant on AVX-512 VNNI, while on AVX2 a one-row <c>MatMulNBits</c> at level 4 takes
/// another path and differs in the last bits; at level 0 (fp32 compute) a one-row product differs everywhere. So the
/// head gathers the last position alone only when <see cref="KernelRowInvariance"/> finds its kernel invariant from one
/// row on the running CPU (never at level 0). Where the kernel is invariant only from two rows, the last position is
/// gathered twice and one copy kept after the projection: the head then always runs its many-row kernel, whose bits for
/// a row are those the full projection gives it among two or more rows (a one-token forward of the full graph took the
/// one-row path instead, so the engine makes this a fingerprint input). Otherwise the graph is left as it is.
/// </para>
/// </remarks>
internal static class LastPositionLogitsRewriter
{
    private const string IndicesName = "capa::last_position/indices";
    private const string GatheredName = "capa::last_position/hidden";
    private const string ShapeName = "capa::last_position/logits_shape";
    private const string TwoRowsName = "capa::last_position/two_rows";
    private const string SliceStartsName = "capa::last_position/slice_starts";
    private const string SliceEndsName = "capa::last_position/slice_ends";
    private const string SliceAxesName = "capa::last_position/slice_axes";

    private static readonly HashSet<string> PassThrough = ["Cast", "Identity", "Mul", "Div", "Add", "Sub", "Tanh"];

    /// <summary>
    /// Returns the rewritten model and the rows its head projects per sequence (1, or 2 where the head's kernel, run with
    /// <paramref name="threads"/> intra-op threads, is row-invariant only from two rows on this CPU), or a null model when
    /// the graph's head has none of the recognised shapes (or no <c>logits</c> output), or when its kernel gives a row
    /// bits that depend on the other rows; the input is never changed.
    /// </summary>
    public static (byte[]? Model, int HeadRows) Rewrite(byte[] model, int threads) =>
        Rewrite(model, kernel => KernelRowInvariance.Check(kernel, threads));

    /// <summary>
    /// As <see cref="Rewrite(byte[], int)"/> with a verdict of one row (true) or none (false) given by
    /// <paramref name="headIsRowInvariant"/> (called with the head's kernel when the graph has a recognised head).
    /// </summary>
    public static byte[]? Rewrite(byte[] model, Func<LinearKernel, bool> headIsRowInvariant)
    {
        ArgumentNullException.ThrowIfNull(headIsRowInvariant);
        return Rewrite(model, kernel => headIsRowInvariant(kernel) ? RowInvariance.FromOneRow : RowInvariance.None).Model;
    }

    /// <summary>
    /// As <see cref="Rewrite(byte[], int)"/>, with the head kernel's row invariance given by <paramref name="headVerdict"/>
    /// (called with the head's kernel when the graph has a recognised head). <see cref="RowInvariance.FromOneRow"/> gathers
    /// the last position; <see cref="RowInvariance.FromTwoRows"/> gathers it twice, so that the head always runs its
    /// many-row kernel (bitwise what the full projection gives a row among two or more), and keeps the first copy.
    /// </summary>
    public static (byte[]? Model, int HeadRows) Rewrite(byte[] model, Func<LinearKernel, RowInvariance> headVerdict)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(headVerdict);
        var output = new ArrayBufferWriter<byte>(model.Length + 512);
        var reader = new OnnxProtoReader(model);
        var rows = 0;
        while (!reader.End)
        {
            var start = reader.Position;
            var (field, wire) = reader.Tag();
            if (field == ModelGraphField && wire == 2 && rows == 0)
            {
                var graph = reader.Bytes();
                var (newGraph, headRows) = RewriteGraph(graph, headVerdict);
                if (newGraph is null)
                {
                    return (null, 0);
                }

                OnnxProto.WriteTag(output, field, 2);
                OnnxProto.WriteVarint(output, (ulong)newGraph.Length);
                output.Write(newGraph);
                rows = headRows;
            }
            else
            {
                reader.Skip(wire);
                output.Write(model.AsSpan(start, reader.Position - start));
            }
        }

        return rows > 0 ? (output.WrittenSpan.ToArray(), rows) : (null, 0);
    }

    /// <summary>
    /// Every linear kernel of the model's graph (<c>MatMul</c> and <c>Gemm</c> on an initializer, <c>MatMulNBits</c>), and
    /// the first linear node whose kernel cannot be told (e.g. a product of two activations), if any.
    /// </summary>
    public static (IReadOnlyList<LinearKernel> Kernels, string? Unknown) LinearKernels(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var kernels = new List<LinearKernel>();
        string? unknown = null;
        var reader = new OnnxProtoReader(model);
        while (!reader.End)
        {
            var (field, wire) = reader.Tag();
            if (field != ModelGraphField || wire != 2)
            {
                reader.Skip(wire);
                continue;
            }

            var nodes = new List<Node>();
            var initializers = new Dictionary<string, (int DataType, long[] Dims)>(StringComparer.Ordinal);
            var graph = new OnnxProtoReader(reader.Bytes());
            while (!graph.End)
            {
                var (f, w) = graph.Tag();
                if (f == GraphNodeField && w == 2)
                {
                    nodes.Add(Node.Parse(graph.Bytes()));
                }
                else if (f == GraphInitializerField && w == 2)
                {
                    var initializer = graph.Bytes();
                    initializers[FirstString(initializer, TensorNameField) ?? string.Empty] = TensorInfo(initializer);
                }
                else
                {
                    graph.Skip(w);
                }
            }

            foreach (var node in nodes.Where(n => n.IsHead))
            {
                if (Kernel(node, initializers) is { } kernel)
                {
                    kernels.Add(kernel);
                }
                else
                {
                    unknown ??= $"{node.OpType} on {string.Join(", ", node.Inputs)}";
                }
            }

            break;
        }

        return ([.. kernels.Distinct()], unknown);
    }

    private static (byte[]? Graph, int Rows) RewriteGraph(ReadOnlySpan<byte> graph, Func<LinearKernel, RowInvariance> headVerdict)
    {
        var nodes = new List<Node>();
        var constants = new HashSet<string>(StringComparer.Ordinal);
        var initializers = new Dictionary<string, (int DataType, long[] Dims)>(StringComparer.Ordinal);
        var outputs = new HashSet<string>(StringComparer.Ordinal);
        var reader = new OnnxProtoReader(graph);
        while (!reader.End)
        {
            var (field, wire) = reader.Tag();
            if (field == GraphNodeField && wire == 2)
            {
                nodes.Add(Node.Parse(reader.Bytes()));
            }
            else if (field == GraphInitializerField && wire == 2)
            {
                var initializer = reader.Bytes();
                var name = FirstString(initializer, TensorNameField) ?? string.Empty;
                constants.Add(name);
                initializers[name] = TensorInfo(initializer);
            }
            else if (field == GraphOutputField && wire == 2)
            {
                outputs.Add(FirstString(reader.Bytes(), 1) ?? string.Empty);
            }
            else
            {
                reader.Skip(wire);
            }
        }

        if (!outputs.Contains("logits"))
        {
            return (null, 0);
        }

        var producers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var name in nodes[i].Outputs)
            {
                producers[name] = i;
            }

            if (nodes[i].OpType == "Constant")
            {
                constants.UnionWith(nodes[i].Outputs);
            }
        }

        // Walk back from the logits through element-wise ops to the projection.
        var tensor = "logits";
        int? lastReshape = null;
        for (var hops = 0; hops < 16; hops++)
        {
            if (!producers.TryGetValue(tensor, out var index))
            {
                return (null, 0);
            }

            var node = nodes[index];
            if (node.IsHead)
            {
                if (Kernel(node, initializers) is not { } kernel)
                {
                    return (null, 0);
                }

                var rows = headVerdict(kernel) switch
                {
                    RowInvariance.FromOneRow => 1,
                    RowInvariance.FromTwoRows => 2,
                    _ => 0,
                };
                return rows > 0 && Splice(graph, nodes, producers, index, lastReshape, rows, kernel.N) is { } spliced ? (spliced, rows) : (null, 0);
            }

            if (node.OpType == "Reshape" && lastReshape is null && node.Inputs.Count == 2
                && producers.TryGetValue(node.Inputs[0], out var p) && nodes[p].OpType == "Gemm")
            {
                lastReshape = index;
                tensor = node.Inputs[0];
                continue;
            }

            if (!PassThrough.Contains(node.OpType) || node.Domain.Length != 0)
            {
                return (null, 0);
            }

            var variable = node.Inputs.Where(i => i.Length > 0 && !constants.Contains(i)).ToList();
            if (variable.Count != 1)
            {
                return (null, 0);
            }

            tensor = variable[0];
        }

        return (null, 0);
    }

    // The head's kernel as ONNX Runtime picks it; null when it cannot be told from the node and its initializers.
    private static LinearKernel? Kernel(Node head, Dictionary<string, (int DataType, long[] Dims)> initializers)
    {
        if (head.Inputs.Count < 2)
        {
            return null;
        }

        if (head.OpType == "MatMulNBits")
        {
            // The activations have the scales' element type (T1).
            if (head.Inputs.Count < 3 || !initializers.TryGetValue(head.Inputs[2], out var scales)
                || !head.Ints.TryGetValue("K", out var k) || !head.Ints.TryGetValue("N", out var n)
                || !head.Ints.TryGetValue("block_size", out var block))
            {
                return null;
            }

            return new LinearKernel("MatMulNBits", (int)k, (int)n, scales.DataType, (int)head.Ints.GetValueOrDefault("bits", 4), (int)block,
                (int)head.AccuracyLevel, head.Inputs.Count > 3 && head.Inputs[3].Length > 0);
        }

        if (!initializers.TryGetValue(head.Inputs[1], out var weight) || weight.Dims.Length != 2)
        {
            return null;
        }

        if (head.OpType == "Gemm")
        {
            // Tied heads read the [vocabulary, hidden] embedding with transB; any other Gemm is not a recognised head.
            return head.Ints.GetValueOrDefault("transB", 0) == 1 && head.Ints.GetValueOrDefault("transA", 0) == 0
                ? new LinearKernel("Gemm", (int)weight.Dims[1], (int)weight.Dims[0], weight.DataType)
                : null;
        }

        return new LinearKernel("MatMul", (int)weight.Dims[0], (int)weight.Dims[1], weight.DataType);
    }

    private static (int DataType, long[] Dims) TensorInfo(ReadOnlySpan<byte> tensor)
    {
        var dims = new List<long>();
        var type = 0;
        var reader = new OnnxProtoReader(tensor);
        while (!reader.End)
        {
            var (field, wire) = reader.Tag();
            if (field == TensorDimsField && wire == 0)
            {
                dims.Add((long)reader.Varint());
            }
            else if (field == TensorDimsField && wire == 2)
            {
                // Packed repeated int64.
                var packed = new OnnxProtoReader(reader.Bytes());
                while (!packed.End)
                {
                    dims.Add((long)packed.Varint());
                }
            }
            else if (field == TensorDataTypeField && wire == 0)
            {
                type = (int)reader.Varint();
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return (type, [.. dims]);
    }

    // Rows: 1 gathers the last position; 2 gathers it twice (the head then runs its many-row kernel) and a Slice after the
    // projection (after the tied head's last Reshape) keeps the first copy, so the logits stay [batch, 1, vocab].
    private static byte[]? Splice(ReadOnlySpan<byte> graph, List<Node> nodes, Dictionary<string, int> producers, int head, int? lastReshape, int rows, int vocabulary)
    {
        // The node whose first input gets the gathered states, and the [batch, sequence, hidden] tensor it reads.
        int target;
        if (rows == 1 && nodes[head] is { OpType: "MatMulNBits", AccuracyLevel: 0 })
        {
            return null;
        }

        if (nodes[head].OpType == "Gemm")
        {
            // Tied Gemm: Reshape([b, s, h] → [−1, h]) → Gemm → Reshape(to [b, s, vocab] from the input's shape).
            if (lastReshape is null || !producers.TryGetValue(nodes[head].Inputs[0], out target) || nodes[target].OpType != "Reshape")
            {
                return null;
            }
        }
        else
        {
            target = head;
        }

        // The node whose first output is the projection of [batch, rows] positions, where the Slice goes.
        var sliced = rows == 1 ? -1 : lastReshape ?? head;
        var states = nodes[target].Inputs[0];
        var output = new ArrayBufferWriter<byte>(graph.Length + 512);
        var reader = new OnnxProtoReader(graph);
        var index = 0;
        while (!reader.End)
        {
            var start = reader.Position;
            var (field, wire) = reader.Tag();
            if (field == GraphNodeField && wire == 2)
            {
                var node = reader.Bytes();
                byte[]? changed = null;
                if (index == target)
                {
                    WriteGather(output, states);
                    changed = ReplaceField(node, NodeInputField, 0, GatheredName);
                }
                else if (index == lastReshape)
                {
                    changed = ReplaceField(node, NodeInputField, 1, ShapeName);
                }

                if (index == sliced)
                {
                    WriteNode(output, ReplaceField(changed ?? node, NodeOutputField, 0, TwoRowsName));
                    WriteSlice(output, nodes[index].Outputs[0]);
                }
                else if (changed is not null)
                {
                    WriteNode(output, changed);
                }
                else
                {
                    output.Write(graph[start..reader.Position]);
                }

                index++;
            }
            else
            {
                reader.Skip(wire);
                output.Write(graph[start..reader.Position]);
            }
        }

        WriteInt64Initializer(output, IndicesName, rows == 1 ? [-1] : [-1, -1]);
        if (lastReshape is not null)
        {
            // [batch·1, vocab] back to [batch, 1, vocab]: 0 copies the batch, −1 takes the vocabulary; [batch·2, vocab]
            // to [batch, 2, vocab] needs the vocabulary's width, since the batch is then a quotient.
            WriteInt64Initializer(output, ShapeName, rows == 1 ? [0, 1, -1] : [-1, rows, vocabulary]);
        }

        if (rows > 1)
        {
            // The first of the identical rows on the sequence axis: [batch, 1, vocab].
            WriteInt64Initializer(output, SliceStartsName, [0]);
            WriteInt64Initializer(output, SliceEndsName, [1]);
            WriteInt64Initializer(output, SliceAxesName, [1]);
        }

        return output.WrittenSpan.ToArray();
    }

    private static void WriteGather(ArrayBufferWriter<byte> output, string states)
    {
        var node = new ArrayBufferWriter<byte>(128);
        WriteString(node, NodeInputField, states);
        WriteString(node, NodeInputField, IndicesName);
        WriteString(node, NodeOutputField, GatheredName);
        WriteString(node, NodeNameField, "/capa/last_position/Gather");
        WriteString(node, NodeOpTypeField, "Gather");
        var attribute = new ArrayBufferWriter<byte>(16);
        WriteString(attribute, AttributeNameField, "axis");
        OnnxProto.WriteTag(attribute, AttributeIntField, 0);
        OnnxProto.WriteVarint(attribute, 1);
        OnnxProto.WriteTag(attribute, AttributeTypeField, 0);
        OnnxProto.WriteVarint(attribute, AttributeTypeInt);
        OnnxProto.WriteTag(node, NodeAttributeField, 2);
        OnnxProto.WriteVarint(node, (ulong)attribute.WrittenCount);
        node.Write(attribute.WrittenSpan);
        WriteNode(output, node.WrittenSpan);
    }

    private static void WriteSlice(ArrayBufferWriter<byte> output, string result)
    {
        var node = new ArrayBufferWriter<byte>(192);
        WriteString(node, NodeInputField, TwoRowsName);
        WriteString(node, NodeInputField, SliceStartsName);
        WriteString(node, NodeInputField, SliceEndsName);
        WriteString(node, NodeInputField, SliceAxesName);
        WriteString(node, NodeOutputField, result);
        WriteString(node, NodeNameField, "/capa/last_position/Slice");
        WriteString(node, NodeOpTypeField, "Slice");
        WriteNode(output, node.WrittenSpan);
    }

    private static void WriteNode(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> node)
    {
        OnnxProto.WriteTag(output, GraphNodeField, 2);
        OnnxProto.WriteVarint(output, (ulong)node.Length);
        output.Write(node);
    }

    private static void WriteInt64Initializer(ArrayBufferWriter<byte> output, string name, long[] values)
    {
        var tensor = new ArrayBufferWriter<byte>(64);
        OnnxProto.WriteTag(tensor, TensorDimsField, 0);
        OnnxProto.WriteVarint(tensor, (ulong)values.Length);
        OnnxProto.WriteTag(tensor, TensorDataTypeField, 0);
        OnnxProto.WriteVarint(tensor, TensorInt64);
        WriteString(tensor, TensorNameField, name);
        var raw = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++)
        {
            BitConverter.TryWriteBytes(raw.AsSpan(i * 8), values[i]);
        }

        OnnxProto.WriteTag(tensor, TensorRawDataField, 2);
        OnnxProto.WriteVarint(tensor, (ulong)raw.Length);
        tensor.Write(raw);
        OnnxProto.WriteTag(output, GraphInitializerField, 2);
        OnnxProto.WriteVarint(output, (ulong)tensor.WrittenCount);
        output.Write(tensor.WrittenSpan);
    }

    private static void WriteString(ArrayBufferWriter<byte> output, int field, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        OnnxProto.WriteTag(output, field, 2);
        OnnxProto.WriteVarint(output, (ulong)bytes.Length);
        output.Write(bytes);
    }

    // The node with its position-th input (or output) renamed; every other field is copied as is.
    private static byte[] ReplaceField(ReadOnlySpan<byte> node, int wanted, int position, string name)
    {
        var output = new ArrayBufferWriter<byte>(node.Length + 64);
        var reader = new OnnxProtoReader(node);
        var seen = 0;
        while (!reader.End)
        {
            var start = reader.Position;
            var (field, wire) = reader.Tag();
            reader.Skip(wire);
            if (field == wanted && wire == 2 && seen++ == position)
            {
                WriteString(output, wanted, name);
            }
            else
            {
                output.Write(node[start..reader.Position]);
            }
        }

        return output.WrittenSpan.ToArray();
    }

    private sealed record Node(List<string> Inputs, List<string> Outputs, string OpType, string Domain, Dictionary<string, long> Ints)
    {
        public long AccuracyLevel => Ints.GetValueOrDefault("accuracy_level", 0);

        public bool IsHead => (OpType is "MatMul" or "Gemm" && Domain.Length == 0)
            || (OpType == "MatMulNBits" && Domain == "com.microsoft");

        public static Node Parse(ReadOnlySpan<byte> bytes)
        {
            var inputs = new List<string>();
            var outputs = new List<string>();
            string op = string.Empty, domain = string.Empty;
            var ints = new Dictionary<string, long>(StringComparer.Ordinal);
            var reader = new OnnxProtoReader(bytes);
            while (!reader.End)
            {
                var (field, wire) = reader.Tag();
                if (wire != 2)
                {
                    reader.Skip(wire);
                    continue;
                }

                var value = reader.Bytes();
                switch (field)
                {
                    case NodeAttributeField when AttributeInt(value) is { } number && FirstString(value, AttributeNameField) is { } attributeName:
                        ints[attributeName] = number;
                        break;
                    case NodeInputField:
                        inputs.Add(Encoding.UTF8.GetString(value));
                        break;
                    case NodeOutputField:
                        outputs.Add(Encoding.UTF8.GetString(value));
                        break;
                    case NodeOpTypeField:
                        op = Encoding.UTF8.GetString(value);
                        break;
                    case NodeDomainField:
                        domain = Encoding.UTF8.GetString(value);
                        break;
                }
            }

            return new Node(inputs, outputs, op, domain, ints);
        }

        private static long? AttributeInt(ReadOnlySpan<byte> attribute)
        {
            var reader = new OnnxProtoReader(attribute);
            while (!reader.End)
            {
                var (field, wire) = reader.Tag();
                if (field == AttributeIntField && wire == 0)
                {
                    return (long)reader.Varint();
                }

                reader.Skip(wire);
            }

            return null;
        }
    }
}
