using System.Globalization;
using System.Runtime.InteropServices;

namespace Capa.Models.Onnx;

/// <summary>
/// Builds an <see cref="OnnxGraph"/> node by node. Output names are generated from a scope prefix and the
/// operator, like an exporter's <c>/model/layers.0/self_attn/MatMul_output_0</c>, so graphs are readable in Netron.
/// </summary>
public sealed class OnnxGraphBuilder
{
    private readonly List<OnnxNode> _nodes = [];
    private readonly List<OnnxInitializer> _initializers = [];
    private readonly Dictionary<string, OnnxInitializer> _initializersByName = new(StringComparer.Ordinal);
    private readonly List<OnnxValueInfo> _inputs = [];
    private readonly List<OnnxValueInfo> _outputs = [];
    private readonly HashSet<string> _names;
    private readonly Dictionary<string, int> _counters;
    private readonly int[] _constants;

    /// <summary>Creates a builder for a main graph.</summary>
    public OnnxGraphBuilder()
    {
        _names = new(StringComparer.Ordinal);
        _counters = new(StringComparer.Ordinal);
        _constants = [0];
    }

    // A subgraph shares its parent's names: ONNX values are visible in nested graphs, so no name may repeat.
    private OnnxGraphBuilder(OnnxGraphBuilder parent)
    {
        _names = parent._names;
        _counters = parent._counters;
        _constants = parent._constants;
        Scope = parent.Scope;
    }

    /// <summary>
    /// A builder for a branch of an <c>If</c> (or a loop body): its nodes may read any value of this graph by name,
    /// and its names never collide with this graph's. Declare its results with <see cref="Output"/>.
    /// </summary>
    public OnnxGraphBuilder CreateSubgraph() => new(this);

    /// <summary>The prefix given to the names of nodes added next, e.g. <c>/model/layers.0/mlp</c>.</summary>
    public string Scope { get; set; } = "";

    /// <summary>Declares a graph input.</summary>
    public string Input(string name, OnnxDataType type, params OnnxDim[] shape)
    {
        Claim(name);
        _inputs.Add(new OnnxValueInfo(name, type, shape));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> as a graph output named <paramref name="name"/> (an Identity node renames it when they differ).</summary>
    public void Output(string value, string name, OnnxDataType type, params OnnxDim[] shape)
    {
        if (!string.Equals(value, name, StringComparison.Ordinal))
        {
            Claim(name);
            _nodes.Add(new OnnxNode(NodeName("Identity"), "Identity", "", [value], [name], []));
        }

        _outputs.Add(new OnnxValueInfo(name, type, shape));
    }

    /// <summary>Adds an initializer whose bytes are produced when the model is written.</summary>
    public string Initializer(string name, OnnxDataType type, long[] dims, Func<byte[]> produce)
    {
        Claim(name);
        var initializer = new OnnxInitializer(name, type, dims, produce);
        _initializers.Add(initializer);
        _initializersByName.Add(name, initializer);
        return name;
    }

    /// <summary>Adds a float initializer.</summary>
    public string Initializer(string name, long[] dims, float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Initializer(name, OnnxDataType.Float, dims, () => MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    }

    /// <summary>Adds an int64 constant (a scalar when <paramref name="dims"/> is empty).</summary>
    public string ConstInt64(long[] dims, params long[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Initializer(ConstName(), OnnxDataType.Int64, dims, () => MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    }

    /// <summary>Adds a 1-D int64 constant.</summary>
    public string ConstInt64Vector(params long[] values) => ConstInt64([values.Length], values);

    /// <summary>Adds a scalar int64 constant.</summary>
    public string ConstInt64Scalar(long value) => ConstInt64([], value);

    /// <summary>Adds a scalar float constant.</summary>
    public string ConstFloatScalar(float value) => Initializer(ConstName(), [], [value]);

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Op(string opType, string[] inputs, params OnnxAttribute[] attributes) =>
        OpIn("", opType, inputs, 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputCount"/> outputs in <paramref name="domain"/>.</summary>
    public string[] OpIn(string domain, string opType, string[] inputs, int outputCount, params OnnxAttribute[] attributes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputCount, 1);
        string name = NodeName(opType);
        var outputs = new string[outputCount];
        for (int i = 0; i < outputCount; i++)
        {
            outputs[i] = name + "_output_" + i.ToString(CultureInfo.InvariantCulture);
            Claim(outputs[i]);
        }

        _nodes.Add(new OnnxNode(name, opType, domain, inputs, outputs, attributes));
        return outputs;
    }

    /// <summary>The graph built so far.</summary>
    public OnnxGraph Build(string name) => new(name, [.. _nodes], [.. _initializers], [.. _inputs], [.. _outputs]);

    private string NodeName(string opType)
    {
        string key = Scope + "/" + opType;
        _counters.TryGetValue(key, out int n);
        _counters[key] = n + 1;
        string name = n == 0 ? key : key + "_" + n.ToString(CultureInfo.InvariantCulture);
        return name;
    }

    private string ConstName() => "const_" + (_constants[0]++).ToString(CultureInfo.InvariantCulture);

    private void Claim(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"The graph already has a value named '{name}'.");
        }
    }
}
