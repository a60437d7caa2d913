using System.Runtime.InteropServices;
using Capa.Models.Config;
using Capa.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// The <c>embed_tokens</c> graph of a multi-part (vision-language) export in one ONNX Runtime session:
/// <c>input_ids</c> [batch, seq] in, <c>inputs_embeds</c> [batch, seq, hidden] out (float or float16, read as float).
/// </summary>
public sealed class OnnxTokenEmbedder : ITokenEmbedder, IDisposable
{
    private const string InputIds = "input_ids";
    private const string InputsEmbeds = "inputs_embeds";

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly TensorElementType _idType;
    private readonly TensorElementType _outputType;
    private readonly Lock _compute = new();

    private OnnxTokenEmbedder(InferenceSession session, string path, int? configuredHidden)
    {
        _session = session;
        if (!session.InputMetadata.TryGetValue(InputIds, out var ids) || session.InputMetadata.Count != 1)
        {
            throw new ModelFolderException($"'{path}' is not an embed_tokens graph: it must take input_ids alone (inputs: {string.Join(", ", session.InputMetadata.Keys)}).");
        }

        if (!session.OutputMetadata.TryGetValue(InputsEmbeds, out var embeds))
        {
            throw new ModelFolderException($"'{path}' is not an embed_tokens graph: it has no inputs_embeds output.");
        }

        _idType = ids.ElementDataType;
        if (_idType is not (TensorElementType.Int64 or TensorElementType.Int32))
        {
            throw new ModelFolderException($"'{path}': input_ids has element type {_idType}; int64 or int32 expected.");
        }

        _outputType = embeds.ElementDataType;
        if (_outputType is not (TensorElementType.Float or TensorElementType.Float16))
        {
            throw new ModelFolderException($"'{path}': inputs_embeds has element type {_outputType}; float or float16 expected.");
        }

        var dims = embeds.Dimensions;
        HiddenSize = dims.Length == 3 && dims[2] > 0 ? dims[2] : configuredHidden
            ?? throw new ModelFolderException($"'{path}': the embedding width is neither in the graph nor in config.json.");
        Path = path;
    }

    /// <inheritdoc/>
    public int HiddenSize { get; }

    /// <summary>The graph file.</summary>
    public string Path { get; }

    /// <summary>Creates the session.</summary>
    /// <param name="path">The <c>embed_tokens*.onnx</c> file.</param>
    /// <param name="configuredHidden">The hidden size from config.json, used when the graph leaves it symbolic.</param>
    /// <param name="intraOpThreads">Intra-op threads.</param>
    /// <exception cref="ModelFolderException">The file cannot be loaded or is not an embedding graph.</exception>
    public static OnnxTokenEmbedder Load(string path, int? configuredHidden, int intraOpThreads)
    {
        return OnnxSessions.Open(path, intraOpThreads, session => new OnnxTokenEmbedder(session, path, configuredHidden));
    }

    /// <inheritdoc/>
    public void Embed(ReadOnlySpan<int> ids, Span<float> destination)
    {
        var n = ids.Length;
        if (destination.Length != n * HiddenSize)
        {
            throw new ArgumentException($"The destination must hold {n} × {HiddenSize} values.", nameof(destination));
        }

        if (n == 0)
        {
            return;
        }

        using var input = _idType == TensorElementType.Int64
            ? OrtValue.CreateTensorValueFromMemory(Widen(ids), [1, n])
            : OrtValue.CreateTensorValueFromMemory(ids.ToArray(), [1, n]);
        IDisposableReadOnlyCollection<OrtValue> outputs;
        lock (_compute)
        {
            outputs = _session.Run(_runOptions, [InputIds], [input], [InputsEmbeds]);
        }

        using (outputs)
        {
            var raw = outputs[0].GetTensorDataAsSpan<byte>();
            if (_outputType == TensorElementType.Float16)
            {
                var half = MemoryMarshal.Cast<byte, Half>(raw);
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)half[i];
                }
            }
            else
            {
                MemoryMarshal.Cast<byte, float>(raw)[..destination.Length].CopyTo(destination);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    private static long[] Widen(ReadOnlySpan<int> ids)
    {
        var wide = new long[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            wide[i] = ids[i];
        }

        return wide;
    }
}
