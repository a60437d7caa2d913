using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using static Capa.Engine.Text.Generation.OnnxProto;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// Rewrites a decoder graph, in memory, so that each layer's attention is one <c>com.microsoft.GroupQueryAttention</c>
/// node (as ONNX Runtime GenAI's graphs compute it) instead of optimum's Q·Kᵀ, scale, mask, Softmax, ·V. The new node
/// attends each batch row over that row's own positions (<c>seqlens_k</c> = the row's mask sum − 1), so rows whose pasts
/// have different lengths can be decoded together, right-padded, with each row's numbers independent of the others
/// (measured bitwise with <c>capa-bench --batch-probe</c>); the stock masked Softmax over a left-padded batch is not.
/// </summary>
/// <remarks>
/// Recognised per layer, walking from each <c>Softmax</c>: its input is <c>Add(scores, bias)</c> (or the scores alone),
/// the scores come through <c>Reshape</c>s, constant scalings and an optional soft-capping <c>Mul(Tanh(Div(x, c)), c)</c>
/// from a <c>MatMul(q, Transpose(keys, [0,1,3,2]))</c>, the keys through <c>Reshape</c>/<c>Expand</c>/<c>Unsqueeze</c>
/// (repeat_kv) from <c>Concat(past_key_values.N.key, k, axis 2)</c>; the probabilities, through <c>Reshape</c>s, meet the
/// values the same way in a <c>MatMul</c>, whose result is turned back by <c>Transpose([0,2,1,3])</c> and a
/// <c>Reshape</c> to [batch, sequence, heads·head_dim]. RoPE stays where the graph computes it: the rotated q and k go
/// into the new node transposed to [batch, sequence, heads·head_dim]. Sliding windows are not recognised (no test
/// graph has one): a graph whose bias is not only causal + padding would be rewritten wrongly, so only graphs whose
/// config has no sliding window are passed here. The graph's inputs and outputs keep their names; <c>attention_mask</c>
/// becomes "ones for each row's real positions, then zeros" and pasts are right-padded per row.
/// </remarks>
internal static class GroupQueryAttentionRewriter
{
    private const string Prefix = "capa::gqa/";
    private const string SeqlensName = Prefix + "seqlens_k";
    private const string TotalName = Prefix + "total_sequence_length";

    /// <summary>The outcome: the rewritten model and the number of attentions replaced, or why the graph was left as is.</summary>
    /// <param name="Model">The rewritten model; null when nothing was rewritten.</param>
    /// <param name="Layers">Attentions replaced.</param>
    /// <param name="Reason">Why the graph was left as is; null when rewritten.</param>
    public sealed record Result(byte[]? Model, int Layers, string? Reason);

    /// <summary>Rewrites every layer's attention, or none (a graph whose layers are not all recognised is left as is).</summary>
    public static Result Rewrite(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var reader = new OnnxProtoReader(model);
        var output = new ArrayBufferWriter<byte>(model.Length + 4096);
        var hasMicrosoftOpset = false;
        Result? result = null;
        while (!reader.End)
        {
            var start = reader.Position;
            var (field, wire) = reader.Tag();
            if (field == ModelGraphField && wire == 2 && result is null)
            {
                var graph = reader.Bytes();
                result = RewriteGraph(graph, out var newGraph);
                if (newGraph is null)
                {
                    return result;
                }

                OnnxProto.WriteTag(output, field, 2);
                OnnxProto.WriteVarint(output, (ulong)newGraph.Length);
                output.Write(newGraph);
            }
            else
            {
                if (field == ModelOpsetField && wire == 2)
                {
                    var opset = reader.Bytes();
                    hasMicrosoftOpset |= FirstString(opset, OpsetDomainField) == "com.microsoft";
                }
                else
                {
                    reader.Skip(wire);
                }

                output.Write(model.AsSpan(start, reader.Position - start));
            }
        }

        if (result is null)
        {
            return new Result(null, 0, "the model has no graph");
        }

        if (!hasMicrosoftOpset)
        {
            var opset = new ArrayBufferWriter<byte>(32);
            WriteString(opset, OpsetDomainField, "com.microsoft");
            WriteInt(opset, OpsetVersionField, 1);
            WriteMessage(output, ModelOpsetField, opset.WrittenSpan);
        }

        return result with { Model = output.WrittenSpan.ToArray() };
    }

    private static Result RewriteGraph(ReadOnlySpan<byte> graph, out byte[]? rewritten)
    {
        rewritten = null;
        var nodes = new List<Node>();
        var constants = new Dictionary<string, Constant>(StringComparer.Ordinal);
        var inputs = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var outputs = new List<string>();
        var reader = new OnnxProtoReader(graph);
        while (!reader.End)
        {
            var (field, wire) = reader.Tag();
            if (field == GraphNodeField && wire == 2)
            {
                var node = Node.Parse(reader.Bytes());
                if (node.HasSubgraph)
                {
                    return new Result(null, 0, $"node {node.Name} ({node.OpType}) has a subgraph");
                }

                nodes.Add(node);
                if (node.OpType == "Constant" && node.Tensor is { } value && node.Outputs.Count == 1)
                {
                    constants[node.Outputs[0]] = value;
                }
            }
            else if (field == GraphInitializerField && wire == 2)
            {
                var tensor = reader.Bytes();
                constants[FirstString(tensor, TensorNameField) ?? string.Empty] = Constant.Parse(tensor);
            }
            else if (field == GraphInputField && wire == 2)
            {
                var (name, dims) = ValueInfo(reader.Bytes());
                inputs[name] = dims;
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

        if (!inputs.ContainsKey("attention_mask"))
        {
            return new Result(null, 0, "the graph has no attention_mask input");
        }

        var producers = new Dictionary<string, int>(StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var name in nodes[i].Outputs)
            {
                producers[name] = i;
            }

            foreach (var name in nodes[i].Inputs.Where(n => n.Length > 0))
            {
                if (!consumers.TryGetValue(name, out var list))
                {
                    consumers[name] = list = [];
                }

                list.Add(i);
            }
        }

        var graphOutputs = new HashSet<string>(outputs, StringComparer.Ordinal);
        var context = new Context(nodes, constants, inputs, producers, consumers, graphOutputs);
        var layers = new List<Layer>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (nodes[i] is { OpType: "Softmax", Domain: "" })
            {
                var (layer, reason) = Match(context, i);
                if (layer is null)
                {
                    return new Result(null, 0, $"attention at {nodes[i].Name}: {reason}");
                }

                layers.Add(layer);
            }
        }

        var pastLayers = inputs.Keys.Count(k => k.StartsWith("past_key_values.", StringComparison.Ordinal) && k.EndsWith(".key", StringComparison.Ordinal));
        if (layers.Count == 0 || layers.Count != pastLayers)
        {
            return new Result(null, 0, $"{layers.Count} attentions recognised for {pastLayers} layers");
        }

        rewritten = Emit(graph, context, layers);
        return new Result(null, layers.Count, null);
    }

    private static (Layer? Layer, string Reason) Match(Context c, int softmax)
    {
        var node = c.Nodes[softmax];
        if (node.Ints.GetValueOrDefault("axis", -1) is not (-1 or 3))
        {
            return (null, "Softmax is not over the last axis");
        }

        // Scores side: through Add (the mask), Reshape, constant scalings and soft-capping back to the Q·Kᵀ MatMul.
        var scale = 1.0;
        float? softcap = null;
        var tensor = node.Inputs[0];
        int? qk = null;
        for (var hops = 0; hops < 12 && qk is null; hops++)
        {
            if (!c.Producers.TryGetValue(tensor, out var p))
            {
                return (null, "the scores do not come from a MatMul");
            }

            var n = c.Nodes[p];
            switch (n.OpType)
            {
                case "MatMul":
                    qk = p;
                    break;
                case "Add" when n.Inputs.Count == 2:
                    {
                        // One side reaches the MatMul; the other is the mask's bias, which the new node replaces.
                        var side = n.Inputs.FirstOrDefault(i => ReachesMatMul(c, i, 12));
                        if (side is null)
                        {
                            return (null, "no side of the mask Add comes from a MatMul");
                        }

                        tensor = side;
                        break;
                    }

                case "Reshape":
                    tensor = n.Inputs[0];
                    break;
                case "Mul" when c.ScalarOf(n, out var other) is { } m:
                    if (c.Producers.TryGetValue(other, out var t) && c.Nodes[t].OpType == "Tanh"
                        && c.Producers.TryGetValue(c.Nodes[t].Inputs[0], out var d) && c.Nodes[d].OpType == "Div"
                        && c.ScalarOf(c.Nodes[d], out var capped) is { } cap && Math.Abs(cap - m) <= 1e-6 * Math.Abs(m))
                    {
                        if (softcap is not null || scale != 1.0)
                        {
                            // GroupQueryAttention scales, then caps; a scaling after the cap cannot be expressed.
                            return (null, softcap is null ? "a scaling after soft-capping" : "two soft-cappings");
                        }

                        softcap = (float)m;
                        tensor = capped;
                    }
                    else
                    {
                        scale *= m;
                        tensor = other;
                    }

                    break;
                case "Div" when c.ScalarOf(n, out var dividend, divisorOnly: true) is { } divisor:
                    scale /= divisor;
                    tensor = dividend;
                    break;
                default:
                    return (null, $"unexpected {n.OpType} on the scores");
            }
        }

        if (qk is null)
        {
            return (null, "the scores do not come from a MatMul");
        }

        // Q: through Reshape and constant scalings to the rotated [batch, heads, sequence, head_dim] queries.
        var q = c.Nodes[qk.Value].Inputs[0];
        for (var hops = 0; hops < 6; hops++)
        {
            if (!c.Producers.TryGetValue(q, out var p))
            {
                break;
            }

            var n = c.Nodes[p];
            if (n.OpType == "Reshape")
            {
                q = n.Inputs[0];
            }
            else if (n.OpType == "Mul" && c.ScalarOf(n, out var other) is { } m)
            {
                scale *= m;
                q = other;
            }
            else if (n.OpType == "Div" && c.ScalarOf(n, out var dividend, divisorOnly: true) is { } divisor)
            {
                scale /= divisor;
                q = dividend;
            }
            else
            {
                break;
            }
        }

        // Kᵀ: Transpose([0,1,3,2]) of the keys (possibly repeated for grouped heads) of Concat(past key, new key).
        if (!c.Producers.TryGetValue(c.Nodes[qk.Value].Inputs[1], out var transpose) || c.Nodes[transpose].OpType != "Transpose"
            || !c.Nodes[transpose].IntList("perm").SequenceEqual([0, 1, 3, 2]))
        {
            return (null, "the keys are not transposed with perm [0,1,3,2]");
        }

        var keyConcat = ConcatOf(c, c.Nodes[transpose].Inputs[0], ".key");
        if (keyConcat is null)
        {
            return (null, "the keys are not Concat(past_key_values.N.key, k)");
        }

        // Probabilities: through Reshapes to the ·V MatMul.
        var probs = node.Outputs[0];
        int? pv = null;
        for (var hops = 0; hops < 4 && pv is null; hops++)
        {
            if (!c.Consumers.TryGetValue(probs, out var list) || list.Count != 1)
            {
                return (null, "the probabilities have no single consumer");
            }

            var n = c.Nodes[list[0]];
            if (n.OpType == "MatMul" && n.Inputs[0] == probs)
            {
                pv = list[0];
            }
            else if (n.OpType is "Reshape" or "Cast")
            {
                probs = n.Outputs[0];
            }
            else
            {
                return (null, $"unexpected {n.OpType} after Softmax");
            }
        }

        if (pv is null)
        {
            return (null, "no MatMul with the values");
        }

        var valueConcat = ConcatOf(c, c.Nodes[pv.Value].Inputs[1], ".value");
        if (valueConcat is null)
        {
            return (null, "the values are not Concat(past_key_values.N.value, v)");
        }

        // Context back to [batch, sequence, heads·head_dim]: Reshape* → Transpose([0,2,1,3]) → Reshape.
        var ctx = c.Nodes[pv.Value].Outputs[0];
        var sawTranspose = false;
        int? merged = null;
        for (var hops = 0; hops < 5 && merged is null; hops++)
        {
            if (!c.Consumers.TryGetValue(ctx, out var list) || list.Count != 1 || c.GraphOutputs.Contains(ctx))
            {
                return (null, "the attention's context has no single consumer");
            }

            var n = c.Nodes[list[0]];
            if (n.OpType == "Transpose" && !sawTranspose && n.IntList("perm").SequenceEqual([0, 2, 1, 3]))
            {
                sawTranspose = true;
            }
            else if (n.OpType != "Reshape")
            {
                return (null, $"unexpected {n.OpType} after the context MatMul");
            }
            else if (sawTranspose)
            {
                merged = list[0];
            }

            ctx = n.Outputs[0];
        }

        if (merged is null)
        {
            return (null, "the context is not brought back to [batch, sequence, hidden]");
        }

        var past = c.Nodes[keyConcat.Value].Inputs[0];
        var dims = c.Inputs[past];
        if (dims.Length != 4 || dims[1] <= 0 || dims[3] <= 0)
        {
            return (null, $"{past} has no fixed kv_heads and head_dim");
        }

        var shape = c.Constants.GetValueOrDefault(c.Nodes[merged.Value].Inputs[1]);
        if (shape?.Int64s is not { Length: 3 } width || width[2] <= 0 || width[2] % dims[3] != 0)
        {
            return (null, "the merged context's width is not a constant multiple of head_dim");
        }

        return (new Layer(
            q,
            c.Nodes[keyConcat.Value].Inputs[1],
            c.Nodes[valueConcat.Value].Inputs[1],
            past,
            c.Nodes[valueConcat.Value].Inputs[0],
            c.Nodes[merged.Value].Outputs[0],
            c.Nodes[keyConcat.Value].Outputs[0],
            c.Nodes[valueConcat.Value].Outputs[0],
            (int)(width[2] / dims[3]),
            (int)dims[1],
            (int)dims[3],
            (float)scale,
            softcap,
            [keyConcat.Value, valueConcat.Value, merged.Value]), string.Empty);
    }

    private static bool ReachesMatMul(Context c, string tensor, int hops)
    {
        for (var i = 0; i < hops; i++)
        {
            if (!c.Producers.TryGetValue(tensor, out var p))
            {
                return false;
            }

            var n = c.Nodes[p];
            if (n.OpType == "MatMul")
            {
                return true;
            }

            if (n.OpType is not ("Reshape" or "Mul" or "Div" or "Tanh") || n.Inputs.Count == 0)
            {
                return false;
            }

            // The variable input (constants have no producer node or are initializers).
            tensor = n.Inputs.FirstOrDefault(x => !c.Constants.ContainsKey(x)) ?? n.Inputs[0];
        }

        return false;
    }

    // The Concat(past_key_values.N.{suffix}, new, axis 2) the tensor comes from, through repeat_kv's Reshape/Expand/Unsqueeze.
    private static int? ConcatOf(Context c, string tensor, string suffix)
    {
        for (var hops = 0; hops < 6; hops++)
        {
            if (!c.Producers.TryGetValue(tensor, out var p))
            {
                return null;
            }

            var n = c.Nodes[p];
            if (n.OpType == "Concat")
            {
                return n.Inputs.Count == 2 && n.Ints.GetValueOrDefault("axis", 0) is 2 or -2
                    && n.Inputs[0].StartsWith("past_key_values.", StringComparison.Ordinal) && n.Inputs[0].EndsWith(suffix, StringComparison.Ordinal)
                    && c.Inputs.ContainsKey(n.Inputs[0])
                    ? p
                    : null;
            }

            if (n.OpType is not ("Reshape" or "Expand" or "Unsqueeze"))
            {
                return null;
            }

            tensor = n.Inputs[0];
        }

        return null;
    }

    private static byte[] Emit(ReadOnlySpan<byte> graph, Context c, List<Layer> layers)
    {
        var removed = new HashSet<int>(layers.SelectMany(l => l.Removed));
        var insertAt = layers.ToDictionary(l => l.Removed[^1]);
        var newNodes = new List<byte[]>();
        var initializers = new ArrayBufferWriter<byte>(1024);
        WriteInt64Initializer(initializers, Prefix + "axis1", [1]);
        WriteInt64Initializer(initializers, Prefix + "one", []);
        WriteInt64Initializer(initializers, Prefix + "index1", []);

        // seqlens_k = ReduceSum(attention_mask, 1) − 1 and total_sequence_length = the mask's width, both int32.
        newNodes.Add(NodeBytes("ReduceSum", "", ["attention_mask", Prefix + "axis1"], [Prefix + "mask_sum"], Prefix + "ReduceSum", ("keepdims", 0)));
        newNodes.Add(NodeBytes("Sub", "", [Prefix + "mask_sum", Prefix + "one"], [Prefix + "seqlens64"], Prefix + "Sub"));
        newNodes.Add(NodeBytes("Cast", "", [Prefix + "seqlens64"], [SeqlensName], Prefix + "CastSeqlens", ("to", 6)));
        newNodes.Add(NodeBytes("Shape", "", ["attention_mask"], [Prefix + "mask_shape"], Prefix + "Shape"));
        newNodes.Add(NodeBytes("Gather", "", [Prefix + "mask_shape", Prefix + "index1"], [Prefix + "total64"], Prefix + "Gather", ("axis", 0)));
        newNodes.Add(NodeBytes("Cast", "", [Prefix + "total64"], [TotalName], Prefix + "CastTotal", ("to", 6)));
        var widths = new HashSet<long>();

        for (var i = 0; i < c.Nodes.Count; i++)
        {
            if (insertAt.TryGetValue(i, out var layer))
            {
                var id = newNodes.Count.ToString(CultureInfo.InvariantCulture);
                string Flat(string tensor, int heads, string role)
                {
                    var width = (long)heads * layer.HeadDim;
                    if (widths.Add(width))
                    {
                        WriteInt64Initializer(initializers, Prefix + "shape" + width.ToString(CultureInfo.InvariantCulture), [0, 0, width]);
                    }

                    var t = Prefix + role + id + "/bshd";
                    newNodes.Add(NodeBytes("Transpose", "", [tensor], [t], t + "/Transpose", ("perm", new long[] { 0, 2, 1, 3 })));
                    var flat = Prefix + role + id + "/flat";
                    newNodes.Add(NodeBytes("Reshape", "", [t, Prefix + "shape" + width.ToString(CultureInfo.InvariantCulture)], [flat], flat + "/Reshape"));
                    return flat;
                }

                var q = Flat(layer.Query, layer.Heads, "q");
                var k = Flat(layer.Key, layer.KvHeads, "k");
                var v = Flat(layer.Value, layer.KvHeads, "v");
                var attributes = new List<(string, object)>
                {
                    ("num_heads", (long)layer.Heads),
                    ("kv_num_heads", (long)layer.KvHeads),
                    ("scale", layer.Scale),
                };
                if (layer.Softcap is { } cap)
                {
                    attributes.Add(("softcap", cap));
                }

                newNodes.Add(NodeBytes("GroupQueryAttention", "com.microsoft",
                    [q, k, v, layer.PastKey, layer.PastValue, SeqlensName, TotalName],
                    [layer.Output, layer.PresentKey, layer.PresentValue],
                    Prefix + "GroupQueryAttention" + id, [.. attributes]));
            }

            if (!removed.Contains(i))
            {
                newNodes.Add(c.Nodes[i].Bytes);
            }
        }

        // Drop what no graph output needs any more (the old attention, the mask's bias).
        var parsed = newNodes.Select(b => Node.Parse(b)).ToList();
        var live = new HashSet<string>(c.GraphOutputs, StringComparer.Ordinal);
        var keep = new bool[parsed.Count];
        for (var i = parsed.Count - 1; i >= 0; i--)
        {
            if (parsed[i].Outputs.Any(live.Contains))
            {
                keep[i] = true;
                live.UnionWith(parsed[i].Inputs.Where(n => n.Length > 0));
            }
        }

        var output = new ArrayBufferWriter<byte>(graph.Length + 4096);
        for (var i = 0; i < newNodes.Count; i++)
        {
            if (keep[i])
            {
                WriteMessage(output, GraphNodeField, newNodes[i]);
            }
        }

        var reader = new OnnxProtoReader(graph);
        while (!reader.End)
        {
            var start = reader.Position;
            var (field, wire) = reader.Tag();
            reader.Skip(wire);
            if (field != GraphNodeField)
            {
                output.Write(graph[start..reader.Position]);
            }
        }

        output.Write(initializers.WrittenSpan);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] NodeBytes(string op, string domain, string[] inputs, string[] outputs, string name, params (string Name, object Value)[] attributes)
    {
        var node = new ArrayBufferWriter<byte>(256);
        foreach (var input in inputs)
        {
            WriteString(node, NodeInputField, input);
        }

        foreach (var o in outputs)
        {
            WriteString(node, NodeOutputField, o);
        }

        WriteString(node, NodeNameField, name);
        WriteString(node, NodeOpTypeField, op);
        foreach (var (attributeName, value) in attributes)
        {
            var attribute = new ArrayBufferWriter<byte>(64);
            WriteString(attribute, AttributeNameField, attributeName);
            switch (value)
            {
                case float f:
                    OnnxProto.WriteTag(attribute, AttributeFloatField, 5);
                    BinaryPrimitives.WriteSingleLittleEndian(attribute.GetSpan(4), f);
                    attribute.Advance(4);
                    WriteInt(attribute, AttributeTypeField, 1);
                    break;
                case long l:
                    WriteInt(attribute, AttributeIntField, l);
                    WriteInt(attribute, AttributeTypeField, 2);
                    break;
                case int l:
                    WriteInt(attribute, AttributeIntField, l);
                    WriteInt(attribute, AttributeTypeField, 2);
                    break;
                case long[] ls:
                    foreach (var l in ls)
                    {
                        WriteInt(attribute, AttributeIntsField, l);
                    }

                    WriteInt(attribute, AttributeTypeField, 7);
                    break;
                default:
                    throw new ArgumentException($"Unsupported attribute value {value}.", nameof(attributes));
            }

            WriteMessage(node, NodeAttributeField, attribute.WrittenSpan);
        }

        if (domain.Length > 0)
        {
            WriteString(node, NodeDomainField, domain);
        }

        return node.WrittenSpan.ToArray();
    }

    private static void WriteInt64Initializer(ArrayBufferWriter<byte> output, string name, long[] values)
    {
        // A scalar when values is empty: the value 1 (the only scalar constants this rewrite needs).
        var tensor = new ArrayBufferWriter<byte>(64);
        foreach (var _ in values)
        {
            WriteInt(tensor, TensorDimsField, values.Length);
            break;
        }

        WriteInt(tensor, TensorDataTypeField, 7);
        WriteString(tensor, TensorNameField, name);
        var data = values.Length == 0 ? [1L] : values;
        var raw = new byte[data.Length * 8];
        for (var i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * 8), data[i]);
        }

        OnnxProto.WriteTag(tensor, TensorRawDataField, 2);
        OnnxProto.WriteVarint(tensor, (ulong)raw.Length);
        tensor.Write(raw);
        WriteMessage(output, GraphInitializerField, tensor.WrittenSpan);
    }

    private static void WriteMessage(ArrayBufferWriter<byte> output, int field, ReadOnlySpan<byte> message)
    {
        OnnxProto.WriteTag(output, field, 2);
        OnnxProto.WriteVarint(output, (ulong)message.Length);
        output.Write(message);
    }

    private static void WriteInt(ArrayBufferWriter<byte> output, int field, long value)
    {
        OnnxProto.WriteTag(output, field, 0);
        OnnxProto.WriteVarint(output, (ulong)value);
    }

    private static void WriteString(ArrayBufferWriter<byte> output, int field, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        OnnxProto.WriteTag(output, field, 2);
        OnnxProto.WriteVarint(output, (ulong)bytes.Length);
        output.Write(bytes);
    }

    // A graph input's name and dimensions (−1 where symbolic).
    private static (string Name, long[] Dims) ValueInfo(ReadOnlySpan<byte> info)
    {
        var name = string.Empty;
        var dims = new List<long>();
        var reader = new OnnxProtoReader(info);
        while (!reader.End)
        {
            var (field, wire) = reader.Tag();
            if (field == 1 && wire == 2)
            {
                name = Encoding.UTF8.GetString(reader.Bytes());
            }
            else if (field == 2 && wire == 2)
            {
                // TypeProto.tensor_type (1) → shape (2) → dim (1) → dim_value (1).
                var type = new OnnxProtoReader(reader.Bytes());
                while (!type.End)
                {
                    var (tf, tw) = type.Tag();
                    if (tf != 1 || tw != 2)
                    {
                        type.Skip(tw);
                        continue;
                    }

                    var tensor = new OnnxProtoReader(type.Bytes());
                    while (!tensor.End)
                    {
                        var (sf, sw) = tensor.Tag();
                        if (sf != 2 || sw != 2)
                        {
                            tensor.Skip(sw);
                            continue;
                        }

                        var shape = new OnnxProtoReader(tensor.Bytes());
                        while (!shape.End)
                        {
                            var (df, dw) = shape.Tag();
                            if (df != 1 || dw != 2)
                            {
                                shape.Skip(dw);
                                continue;
                            }

                            var dim = new OnnxProtoReader(shape.Bytes());
                            long value = -1;
                            while (!dim.End)
                            {
                                var (f, w) = dim.Tag();
                                if (f == 1 && w == 0)
                                {
                                    value = (long)dim.Varint();
                                }
                                else
                                {
                                    dim.Skip(w);
                                }
                            }

                            dims.Add(value);
                        }
                    }
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return (name, [.. dims]);
    }

    private sealed record Layer(
        string Query, string Key, string Value, string PastKey, string PastValue, string Output, string PresentKey, string PresentValue,
        int Heads, int KvHeads, int HeadDim, float Scale, float? Softcap, int[] Removed);

    private sealed record Context(
        List<Node> Nodes,
        Dictionary<string, Constant> Constants,
        Dictionary<string, long[]> Inputs,
        Dictionary<string, int> Producers,
        Dictionary<string, List<int>> Consumers,
        HashSet<string> GraphOutputs)
    {
        // For a binary node with one constant scalar input: its value, and the other input.
        public double? ScalarOf(Node node, out string other, bool divisorOnly = false)
        {
            other = string.Empty;
            if (node.Inputs.Count != 2)
            {
                return null;
            }

            for (var i = divisorOnly ? 1 : 0; i < 2; i++)
            {
                if (Constants.TryGetValue(node.Inputs[i], out var constant) && constant.Scalar is { } value)
                {
                    other = node.Inputs[1 - i];
                    return value;
                }
            }

            return null;
        }
    }

    private sealed record Constant(double? Scalar, long[]? Int64s)
    {
        public static Constant Parse(ReadOnlySpan<byte> tensor)
        {
            var type = 0;
            var count = 1L;
            var raw = ReadOnlySpan<byte>.Empty;
            var floats = new List<float>();
            var longs = new List<long>();
            var reader = new OnnxProtoReader(tensor);
            while (!reader.End)
            {
                var start = reader.Position;
                var (field, wire) = reader.Tag();
                switch (field)
                {
                    case TensorDimsField when wire == 0:
                        count *= (long)reader.Varint();
                        break;
                    case TensorDataTypeField when wire == 0:
                        type = (int)reader.Varint();
                        break;
                    case TensorRawDataField when wire == 2:
                        raw = reader.Bytes();
                        break;
                    case TensorFloatDataField when wire == 5:
                        {
                            var at = reader.Position;
                            reader.Skip(5);
                            floats.Add(BinaryPrimitives.ReadSingleLittleEndian(tensor.Slice(at, 4)));
                            break;
                        }

                    case TensorFloatDataField when wire == 2:
                        {
                            var packed = reader.Bytes();
                            for (var i = 0; i + 4 <= packed.Length; i += 4)
                            {
                                floats.Add(BinaryPrimitives.ReadSingleLittleEndian(packed[i..]));
                            }

                            break;
                        }

                    case TensorInt64DataField when wire == 0:
                        longs.Add((long)reader.Varint());
                        break;
                    case TensorInt64DataField when wire == 2:
                        {
                            var packed = new OnnxProtoReader(reader.Bytes());
                            while (!packed.End)
                            {
                                longs.Add((long)packed.Varint());
                            }

                            break;
                        }

                    default:
                        _ = start;
                        reader.Skip(wire);
                        break;
                }
            }

            if (type == 7 && raw.Length > 0)
            {
                for (var i = 0; i + 8 <= raw.Length; i += 8)
                {
                    longs.Add(BinaryPrimitives.ReadInt64LittleEndian(raw[i..]));
                }
            }

            double? scalar = null;
            if (count == 1)
            {
                scalar = type switch
                {
                    1 when raw.Length == 4 => BinaryPrimitives.ReadSingleLittleEndian(raw),
                    1 when floats.Count == 1 => floats[0],
                    10 when raw.Length == 2 => (double)BinaryPrimitives.ReadHalfLittleEndian(raw),
                    _ => null,
                };
            }

            return new Constant(scalar, type == 7 ? [.. longs] : null);
        }
    }

    private sealed record Node(byte[] Bytes, string Name, List<string> Inputs, List<string> Outputs, string OpType, string Domain,
        Dictionary<string, long> Ints, Dictionary<string, long[]> IntLists, Constant? Tensor, bool HasSubgraph)
    {
        public long[] IntList(string name) => IntLists.GetValueOrDefault(name, []);

        public static Node Parse(ReadOnlySpan<byte> bytes)
        {
            var inputs = new List<string>();
            var outputs = new List<string>();
            string op = string.Empty, domain = string.Empty, name = string.Empty;
            var ints = new Dictionary<string, long>(StringComparer.Ordinal);
            var lists = new Dictionary<string, long[]>(StringComparer.Ordinal);
            Constant? tensor = null;
            var subgraph = false;
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
                    case NodeInputField:
                        inputs.Add(Encoding.UTF8.GetString(value));
                        break;
                    case NodeOutputField:
                        outputs.Add(Encoding.UTF8.GetString(value));
                        break;
                    case NodeNameField:
                        name = Encoding.UTF8.GetString(value);
                        break;
                    case NodeOpTypeField:
                        op = Encoding.UTF8.GetString(value);
                        break;
                    case NodeDomainField:
                        domain = Encoding.UTF8.GetString(value);
                        break;
                    case NodeAttributeField:
                        ParseAttribute(value, ints, lists, ref tensor, ref subgraph);
                        break;
                }
            }

            return new Node(bytes.ToArray(), name, inputs, outputs, op, domain, ints, lists, tensor, subgraph);
        }

        private static void ParseAttribute(ReadOnlySpan<byte> attribute, Dictionary<string, long> ints, Dictionary<string, long[]> lists, ref Constant? tensor, ref bool subgraph)
        {
            var name = string.Empty;
            long? single = null;
            var list = new List<long>();
            var reader = new OnnxProtoReader(attribute);
            while (!reader.End)
            {
                var (field, wire) = reader.Tag();
                if (field == AttributeNameField && wire == 2)
                {
                    name = Encoding.UTF8.GetString(reader.Bytes());
                }
                else if (field == AttributeIntField && wire == 0)
                {
                    single = (long)reader.Varint();
                }
                else if (field == AttributeIntsField && wire == 0)
                {
                    list.Add((long)reader.Varint());
                }
                else if (field == AttributeIntsField && wire == 2)
                {
                    var packed = new OnnxProtoReader(reader.Bytes());
                    while (!packed.End)
                    {
                        list.Add((long)packed.Varint());
                    }
                }
                else if (field == AttributeTensorField && wire == 2)
                {
                    tensor = Constant.Parse(reader.Bytes());
                }
                else if (field is AttributeGraphField or AttributeGraphsField)
                {
                    subgraph = true;
                    reader.Skip(wire);
                }
                else
                {
                    reader.Skip(wire);
                }
            }

            if (single is { } s)
            {
                ints[name] = s;
            }

            if (list.Count > 0)
            {
                lists[name] = [.. list];
            }
        }
    }
}
