using System.Buffers.Binary;

namespace Capa.Media.Audio;

/// <summary>Conversions between float samples in [-1, 1] and 16-bit little-endian PCM.</summary>
public static class Pcm16
{
    /// <summary>
    /// Converts 16-bit little-endian samples to floats (<c>s / 32768</c>). A trailing odd byte is ignored.
    /// </summary>
    public static float[] ToFloat(ReadOnlySpan<byte> littleEndian)
    {
        var samples = new float[littleEndian.Length / 2];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = BinaryPrimitives.ReadInt16LittleEndian(littleEndian.Slice(i * 2, 2)) / 32768f;
        }

        return samples;
    }

    /// <summary>
    /// Writes <paramref name="samples"/> as 16-bit little-endian PCM into <paramref name="destination"/>
    /// (two bytes a sample): scaled by 32767, rounded half away from zero, clipped; NaN becomes 0.
    /// </summary>
    public static void FromFloat(ReadOnlySpan<float> samples, Span<byte> destination)
    {
        if (destination.Length < samples.Length * 2)
        {
            throw new ArgumentException("The destination is shorter than two bytes a sample.", nameof(destination));
        }

        for (var i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(destination.Slice(i * 2, 2), ToInt16(samples[i]));
        }
    }

    /// <summary>Converts samples to 16-bit little-endian PCM bytes.</summary>
    public static byte[] FromFloat(ReadOnlySpan<float> samples)
    {
        var bytes = new byte[samples.Length * 2];
        FromFloat(samples, bytes);
        return bytes;
    }

    /// <summary>One sample as a clipped, rounded 16-bit value.</summary>
    public static short ToInt16(float sample)
    {
        if (float.IsNaN(sample))
        {
            return 0;
        }

        var scaled = MathF.Round(sample * 32767f, MidpointRounding.AwayFromZero);
        return (short)Math.Clamp(scaled, short.MinValue, short.MaxValue);
    }
}
