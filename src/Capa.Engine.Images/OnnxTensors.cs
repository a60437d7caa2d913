using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Capa.Engine.Images;

/// <summary>Tensors in the element type a session declares (float32 or float16 exports), read back as float32.</summary>
internal static class OnnxTensors
{
    public static OrtValue Floats(NodeMetadata meta, float[] data, long[] shape)
    {
        if (meta.ElementDataType == TensorElementType.Float16)
        {
            var halves = new Float16[data.Length];
            for (int i = 0; i < data.Length; i++)
            {
                halves[i] = new Float16(BitConverter.HalfToUInt16Bits((Half)data[i]));
            }

            return OrtValue.CreateTensorValueFromMemory(halves, shape);
        }

        if (meta.ElementDataType != TensorElementType.Float)
        {
            throw new DiffusionModelException($"An input is {meta.ElementDataType}; float32 or float16 was expected.");
        }

        return OrtValue.CreateTensorValueFromMemory(data, shape);
    }

    /// <summary>
    /// The UNet's timestep as its graph declares it: int64 [batch] (diffusers' legacy export), a float scalar (Optimum),
    /// float [batch], or float16 (fp16 exports).
    /// </summary>
    public static OrtValue Timestep(NodeMetadata meta, float timestep, int batch)
    {
        long[] shape = meta.Dimensions.Length == 0 ? [] : [meta.Dimensions[0] > 0 ? meta.Dimensions[0] : batch];
        int count = shape.Length == 0 ? 1 : (int)shape[0];
        return meta.ElementDataType switch
        {
            TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat((long)timestep, count).ToArray(), shape),
            TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat((int)timestep, count).ToArray(), shape),
            _ => Floats(meta, [.. Enumerable.Repeat(timestep, count)], shape),
        };
    }

    public static OrtValue Ids(NodeMetadata meta, int[] ids, long[] shape) => meta.ElementDataType switch
    {
        TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(ids.Select(i => (long)i).ToArray(), shape),
        TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(ids, shape),
        _ => throw new DiffusionModelException($"The text encoder's ids are {meta.ElementDataType}; int32 or int64 was expected."),
    };

    public static (float[] Data, long[] Shape) Read(OrtValue value)
    {
        OrtTensorTypeAndShapeInfo info = value.GetTensorTypeAndShape();
        long[] shape = info.Shape;
        if (info.ElementDataType == TensorElementType.Float16)
        {
            ReadOnlySpan<Float16> halves = value.GetTensorDataAsSpan<Float16>();
            var data = new float[halves.Length];
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (float)BitConverter.UInt16BitsToHalf(halves[i].value);
            }

            return (data, shape);
        }

        return (value.GetTensorDataAsSpan<float>().ToArray(), shape);
    }
}
