using System.Runtime.InteropServices;
using Capa.Models.Config;
using Capa.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Capa.Engine.Vision;

/// <summary>
/// SmolVLM's <c>vision_encoder</c> graph in one ONNX Runtime session: <c>pixel_values</c> [batch, num_images, 3, S, S]
/// (float or float16) and, when the graph has it, <c>pixel_attention_mask</c> [batch, num_images, S, S] (bool or an
/// integer type) in; <c>image_features</c> [tiles, image_seq_len, hidden] out. Names and element types are read from the
/// session.
/// </summary>
public sealed class OnnxVisionEncoder : IDisposable
{
    private const string PixelValues = "pixel_values";
    private const string PixelAttentionMask = "pixel_attention_mask";
    private const string ImageFeatures = "image_features";

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly Lock _compute = new();
    private readonly TensorElementType _pixelType;
    private readonly TensorElementType? _maskType;
    private readonly TensorElementType _featuresType;

    private OnnxVisionEncoder(InferenceSession session, string path, int hidden)
    {
        _session = session;
        Path = path;
        var inputs = session.InputMetadata;
        if (!inputs.TryGetValue(PixelValues, out var pixels))
        {
            throw new ModelFolderException($"'{path}' has no pixel_values input: it is not a vision_encoder export.");
        }

        if (!session.OutputMetadata.TryGetValue(ImageFeatures, out var features))
        {
            throw new ModelFolderException($"'{path}' has no image_features output: it is not a vision_encoder export.");
        }

        var unknown = inputs.Keys.Where(k => k is not (PixelValues or PixelAttentionMask)).ToList();
        if (unknown.Count > 0)
        {
            throw new ModelFolderException($"'{path}' has graph inputs no role feeds: {string.Join(", ", unknown)}.");
        }

        _pixelType = pixels.ElementDataType;
        if (_pixelType is not (TensorElementType.Float or TensorElementType.Float16))
        {
            throw new ModelFolderException($"'{path}': pixel_values has element type {_pixelType}; float or float16 expected.");
        }

        if (pixels.Dimensions.Length != 5)
        {
            throw new ModelFolderException($"'{path}': pixel_values has {pixels.Dimensions.Length} dimensions; [batch, num_images, 3, height, width] expected.");
        }

        if (inputs.TryGetValue(PixelAttentionMask, out var mask))
        {
            _maskType = mask.ElementDataType;
            if (_maskType is not (TensorElementType.Bool or TensorElementType.Int64 or TensorElementType.Int32))
            {
                throw new ModelFolderException($"'{path}': pixel_attention_mask has element type {_maskType}; bool expected.");
            }
        }

        _featuresType = features.ElementDataType;
        if (_featuresType is not (TensorElementType.Float or TensorElementType.Float16))
        {
            throw new ModelFolderException($"'{path}': image_features has element type {_featuresType}; float or float16 expected.");
        }

        var dims = features.Dimensions;
        if (dims.Length == 3 && dims[2] > 0 && dims[2] != hidden)
        {
            throw new ModelFolderException($"'{path}': image_features are {dims[2]} wide but the text model's embeddings are {hidden}.");
        }

        HiddenSize = hidden;
    }

    /// <summary>The graph file.</summary>
    public string Path { get; }

    /// <summary>Width of one feature row (the text model's hidden size).</summary>
    public int HiddenSize { get; }

    /// <summary>Creates the session.</summary>
    /// <exception cref="ModelFolderException">The file cannot be loaded or its I/O is not a vision encoder's.</exception>
    public static OnnxVisionEncoder Load(string path, int textHiddenSize, int intraOpThreads)
    {
        return OnnxSessions.Open(path, intraOpThreads, session => new OnnxVisionEncoder(session, path, textHiddenSize));
    }

    /// <summary>
    /// Encodes the tiles of one image: <paramref name="pixelValues"/> [tiles, 3, S, S] and <paramref name="pixelAttentionMask"/>
    /// [tiles, S, S] (true where a pixel is real), fed as one image of <paramref name="tiles"/> tiles. Returns the features
    /// row-major [tiles × image_seq_len, hidden], in tile order.
    /// </summary>
    public float[] Encode(ReadOnlySpan<float> pixelValues, ReadOnlySpan<bool> pixelAttentionMask, int tiles, int tileSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tiles, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tileSize, 1);
        var area = (long)tileSize * tileSize;
        if (pixelValues.Length != tiles * 3 * area || pixelAttentionMask.Length != tiles * area)
        {
            throw new ArgumentException($"{tiles} tiles of {tileSize}×{tileSize} need {tiles * 3 * area} pixel values and {tiles * area} mask values.");
        }

        var owned = new List<OrtValue>(2);
        var names = new List<string>(2);
        try
        {
            long[] pixelShape = [1, tiles, 3, tileSize, tileSize];
            owned.Add(_pixelType == TensorElementType.Float16
                ? OrtValue.CreateTensorValueFromMemory(ToFloat16(pixelValues), pixelShape)
                : OrtValue.CreateTensorValueFromMemory(pixelValues.ToArray(), pixelShape));
            names.Add(PixelValues);
            if (_maskType is { } maskType)
            {
                long[] maskShape = [1, tiles, tileSize, tileSize];
                owned.Add(maskType switch
                {
                    TensorElementType.Bool => OrtValue.CreateTensorValueFromMemory(pixelAttentionMask.ToArray(), maskShape),
                    TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(Widen<int>(pixelAttentionMask), maskShape),
                    _ => OrtValue.CreateTensorValueFromMemory(Widen<long>(pixelAttentionMask), maskShape),
                });
                names.Add(PixelAttentionMask);
            }

            IDisposableReadOnlyCollection<OrtValue> outputs;
            lock (_compute)
            {
                outputs = _session.Run(_runOptions, names, owned, [ImageFeatures]);
            }

            using (outputs)
            {
                var shape = outputs[0].GetTensorTypeAndShape().Shape;
                if (shape.Length != 3 || shape[2] != HiddenSize || shape[0] != tiles)
                {
                    throw new InvalidOperationException($"The vision encoder returned image_features [{string.Join(", ", shape)}]; [{tiles}, seq, {HiddenSize}] expected.");
                }

                var raw = outputs[0].GetTensorDataAsSpan<byte>();
                if (_featuresType == TensorElementType.Float16)
                {
                    var half = MemoryMarshal.Cast<byte, Half>(raw);
                    var result = new float[half.Length];
                    for (var i = 0; i < result.Length; i++)
                    {
                        result[i] = (float)half[i];
                    }

                    return result;
                }

                return MemoryMarshal.Cast<byte, float>(raw).ToArray();
            }
        }
        finally
        {
            foreach (var value in owned)
            {
                value.Dispose();
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    private static Float16[] ToFloat16(ReadOnlySpan<float> values)
    {
        var half = new Float16[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            half[i] = (Float16)values[i];
        }

        return half;
    }

    private static T[] Widen<T>(ReadOnlySpan<bool> mask)
        where T : struct, System.Numerics.INumber<T>
    {
        var wide = new T[mask.Length];
        for (var i = 0; i < mask.Length; i++)
        {
            wide[i] = mask[i] ? T.One : T.Zero;
        }

        return wide;
    }
}
