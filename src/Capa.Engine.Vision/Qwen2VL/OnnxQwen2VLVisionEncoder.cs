using System.Runtime.InteropServices;
using Capa.Models.Config;
using Capa.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Capa.Engine.Vision.Qwen2VL;

/// <summary>
/// A Qwen2-VL <c>vision_encoder</c> graph as onnx-community exports it: <c>pixel_values</c> [patches, 1176] (float or
/// float16) and the grid, <c>grid_thw</c> (as transformers.js feeds it) or <c>image_grid_thw</c>, int64 [images, 3] in;
/// <c>image_features</c> [patches / merge², text_hidden] out. One image per run.
/// </summary>
public sealed class OnnxQwen2VLVisionEncoder : IDisposable
{
    private const string PixelValues = "pixel_values";
    private const string ImageFeatures = "image_features";
    private static readonly string[] GridNames = ["grid_thw", "image_grid_thw"];

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly Lock _compute = new();
    private readonly TensorElementType _pixelType;
    private readonly TensorElementType _featuresType;
    private readonly string _gridName;

    private OnnxQwen2VLVisionEncoder(InferenceSession session, string path, int hidden)
    {
        _session = session;
        Path = path;
        var inputs = session.InputMetadata;
        if (!inputs.TryGetValue(PixelValues, out var pixels))
        {
            throw new ModelFolderException($"'{path}' has no pixel_values input: it is not a vision_encoder export.");
        }

        _gridName = GridNames.FirstOrDefault(inputs.ContainsKey)
            ?? throw new ModelFolderException($"'{path}' has no grid_thw (or image_grid_thw) input: it is not a Qwen2-VL vision_encoder export.");
        if (inputs[_gridName].ElementDataType != TensorElementType.Int64)
        {
            throw new ModelFolderException($"'{path}': {_gridName} has element type {inputs[_gridName].ElementDataType}; int64 expected.");
        }

        if (!session.OutputMetadata.TryGetValue(ImageFeatures, out var features))
        {
            throw new ModelFolderException($"'{path}' has no image_features output: it is not a vision_encoder export.");
        }

        var unknown = inputs.Keys.Where(k => k != PixelValues && k != _gridName).ToList();
        if (unknown.Count > 0)
        {
            throw new ModelFolderException($"'{path}' has graph inputs no role feeds: {string.Join(", ", unknown)}.");
        }

        _pixelType = pixels.ElementDataType;
        if (_pixelType is not (TensorElementType.Float or TensorElementType.Float16))
        {
            throw new ModelFolderException($"'{path}': pixel_values has element type {_pixelType}; float or float16 expected.");
        }

        if (pixels.Dimensions.Length != 2)
        {
            throw new ModelFolderException($"'{path}': pixel_values has {pixels.Dimensions.Length} dimensions; [patches, channels × temporal × patch²] expected.");
        }

        PatchWidth = pixels.Dimensions[1];
        _featuresType = features.ElementDataType;
        if (_featuresType is not (TensorElementType.Float or TensorElementType.Float16))
        {
            throw new ModelFolderException($"'{path}': image_features has element type {_featuresType}; float or float16 expected.");
        }

        var dims = features.Dimensions;
        if (dims.Length != 2 || (dims[1] > 0 && dims[1] != hidden))
        {
            throw new ModelFolderException($"'{path}': image_features is [{string.Join(", ", dims)}]; [tokens, {hidden}] expected.");
        }

        HiddenSize = hidden;
    }

    /// <summary>The graph file.</summary>
    public string Path { get; }

    /// <summary>The text model's embedding width, the width of every feature row.</summary>
    public int HiddenSize { get; }

    /// <summary>Values per patch row the graph declares (1176 for Qwen2-VL), or −1 when dynamic.</summary>
    public int PatchWidth { get; }

    /// <summary>Creates the session.</summary>
    /// <exception cref="ModelFolderException">The graph cannot be loaded or its I/O does not fit.</exception>
    public static OnnxQwen2VLVisionEncoder Load(string path, int textHiddenSize, int intraOpThreads)
    {
        return OnnxSessions.Open(path, intraOpThreads, session => new OnnxQwen2VLVisionEncoder(session, path, textHiddenSize));
    }

    /// <summary>The features of one image, row-major [t × h × w / merge², hidden].</summary>
    /// <exception cref="ArgumentException">The pixel rows do not match the grid.</exception>
    public float[] Encode(ReadOnlySpan<float> pixelValues, int patchWidth, int gridT, int gridH, int gridW)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gridT, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(gridH, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(gridW, 1);
        var patches = gridT * gridH * gridW;
        if ((PatchWidth > 0 && patchWidth != PatchWidth) || pixelValues.Length != (long)patches * patchWidth)
        {
            throw new ArgumentException($"A {gridT}×{gridH}×{gridW} grid needs {patches} rows of {(PatchWidth > 0 ? PatchWidth : patchWidth)} values; {pixelValues.Length} values were given.");
        }

        var owned = new List<OrtValue>(2);
        try
        {
            long[] pixelShape = [patches, patchWidth];
            if (_pixelType == TensorElementType.Float16)
            {
                var half = new Float16[pixelValues.Length];
                for (var i = 0; i < half.Length; i++)
                {
                    half[i] = (Float16)pixelValues[i];
                }

                owned.Add(OrtValue.CreateTensorValueFromMemory(half, pixelShape));
            }
            else
            {
                owned.Add(OrtValue.CreateTensorValueFromMemory(pixelValues.ToArray(), pixelShape));
            }

            owned.Add(OrtValue.CreateTensorValueFromMemory(new long[] { gridT, gridH, gridW }, [1, 3]));
            IDisposableReadOnlyCollection<OrtValue> outputs;
            lock (_compute)
            {
                outputs = _session.Run(_runOptions, [PixelValues, _gridName], owned, [ImageFeatures]);
            }

            using (outputs)
            {
                var output = outputs[0];
                var shape = output.GetTensorTypeAndShape().Shape;
                if (shape.Length != 2 || shape[1] != HiddenSize)
                {
                    throw new InvalidOperationException($"The vision encoder returned image_features [{string.Join(", ", shape)}]; [tokens, {HiddenSize}] expected.");
                }

                var raw = output.GetTensorDataAsSpan<byte>();
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
}
