using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Capa.Media.Audio;

/// <summary>
/// Reads and writes RIFF/WAVE: PCM 8, 16, 24 and 32-bit integer and 32-bit float, any channel count (mixed down to
/// mono on reading). Tolerates what streaming writers produce: a data chunk whose declared size runs past the end
/// (espeak-ng and ffmpeg write 0x7FFFFFFF-style sizes on pipes), and an odd trailing byte.
/// </summary>
public static class WavFile
{
    private const ushort FormatPcm = 1;
    private const ushort FormatFloat = 3;
    private const ushort FormatExtensible = 0xFFFE;

    /// <summary>The length of the header <see cref="WriteHeader"/> writes.</summary>
    public const int HeaderBytes = 44;

    /// <summary>Reads a WAVE file into mono float samples.</summary>
    /// <returns>False, with a reason, for anything that is not a readable WAVE file.</returns>
    public static bool TryRead(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out PcmAudio? audio, [NotNullWhen(false)] out string? error)
    {
        audio = null;
        if (bytes.Length < 12 || !bytes[..4].SequenceEqual("RIFF"u8) || !bytes.Slice(8, 4).SequenceEqual("WAVE"u8))
        {
            error = "Not a RIFF/WAVE file.";
            return false;
        }

        int channels = 0, sampleRate = 0, bits = 0;
        ushort format = 0;
        var position = 12;
        while (position + 8 <= bytes.Length)
        {
            var id = bytes.Slice(position, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(bytes.Slice(position + 4, 4));
            var body = position + 8;
            if (id.SequenceEqual("fmt "u8))
            {
                if (size < 16 || body + 16 > bytes.Length)
                {
                    error = "The fmt chunk is truncated.";
                    return false;
                }

                format = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(body, 2));
                channels = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(body + 2, 2));
                sampleRate = BinaryPrimitives.ReadInt32LittleEndian(bytes.Slice(body + 4, 4));
                bits = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(body + 14, 2));
                if (format == FormatExtensible && size >= 40 && body + 26 <= bytes.Length)
                {
                    // The sub-format GUID starts with the plain format tag.
                    format = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(body + 24, 2));
                }
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (channels == 0)
                {
                    error = "The data chunk comes before the fmt chunk.";
                    return false;
                }

                var available = bytes.Length - body;
                var length = (int)Math.Min(size, (uint)available);
                return TryDecode(bytes.Slice(body, length), format, channels, sampleRate, bits, out audio, out error);
            }

            // Chunks are padded to an even length.
            var next = (long)body + size + (size & 1);
            if (next > bytes.Length)
            {
                break;
            }

            position = (int)next;
        }

        error = channels == 0 ? "No fmt chunk." : "No data chunk.";
        return false;
    }

    /// <summary>Reads a WAVE file.</summary>
    /// <exception cref="FormatException">The bytes are not a readable WAVE file.</exception>
    public static PcmAudio Read(ReadOnlySpan<byte> bytes) =>
        TryRead(bytes, out var audio, out var error) ? audio : throw new FormatException(error);

    /// <summary>A mono 16-bit PCM WAVE file of <paramref name="audio"/>.</summary>
    public static byte[] Write(PcmAudio audio)
    {
        ArgumentNullException.ThrowIfNull(audio);
        var bytes = new byte[HeaderBytes + (audio.Samples.Length * 2)];
        WriteHeader(bytes, audio.SampleRate, audio.Samples.Length * 2);
        Pcm16.FromFloat(audio.Samples, bytes.AsSpan(HeaderBytes));
        return bytes;
    }

    /// <summary>
    /// Writes the 44-byte header of a mono 16-bit PCM WAVE file with <paramref name="dataBytes"/> of samples;
    /// <see cref="uint.MaxValue"/> sizes mark a stream of unknown length.
    /// </summary>
    public static void WriteHeader(Span<byte> destination, int sampleRate, long dataBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, HeaderBytes, nameof(destination));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        ArgumentOutOfRangeException.ThrowIfNegative(dataBytes);
        var data = dataBytes > uint.MaxValue - 36 ? uint.MaxValue : (uint)dataBytes;
        var riff = data == uint.MaxValue ? uint.MaxValue : data + 36;
        "RIFF"u8.CopyTo(destination);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], riff);
        "WAVE"u8.CopyTo(destination[8..]);
        "fmt "u8.CopyTo(destination[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[20..], FormatPcm);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[22..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(destination[28..], sampleRate * 2);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[32..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[34..], 16);
        "data"u8.CopyTo(destination[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[40..], data);
    }

    private static bool TryDecode(ReadOnlySpan<byte> data, ushort format, int channels, int sampleRate, int bits, [NotNullWhen(true)] out PcmAudio? audio, [NotNullWhen(false)] out string? error)
    {
        audio = null;
        if (sampleRate <= 0 || channels is <= 0 or > 64)
        {
            error = "The fmt chunk names no valid sample rate or channel count.";
            return false;
        }

        var width = (format, bits) switch
        {
            (FormatPcm, 8) => 1,
            (FormatPcm, 16) => 2,
            (FormatPcm, 24) => 3,
            (FormatPcm, 32) => 4,
            (FormatFloat, 32) => 4,
            _ => 0,
        };
        if (width == 0)
        {
            error = $"Unsupported sample format {format} with {bits} bits.";
            return false;
        }

        var frameBytes = width * channels;
        var frames = data.Length / frameBytes;
        var samples = new float[frames];
        for (var f = 0; f < frames; f++)
        {
            float sum = 0;
            for (var c = 0; c < channels; c++)
            {
                var s = data.Slice((f * frameBytes) + (c * width), width);
                sum += (format, width) switch
                {
                    (FormatFloat, _) => BinaryPrimitives.ReadSingleLittleEndian(s),
                    (_, 1) => (s[0] - 128) / 128f,
                    (_, 2) => BinaryPrimitives.ReadInt16LittleEndian(s) / 32768f,
                    (_, 3) => ((s[2] << 24 | s[1] << 16 | s[0] << 8) >> 8) / 8388608f,
                    _ => BinaryPrimitives.ReadInt32LittleEndian(s) / 2147483648f,
                };
            }

            samples[f] = sum / channels;
        }

        audio = new PcmAudio(sampleRate, samples);
        error = null;
        return true;
    }
}
