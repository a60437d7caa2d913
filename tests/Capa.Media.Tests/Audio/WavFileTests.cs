using System.Buffers.Binary;
using Capa.Media.Audio;

namespace Capa.Media.Tests.Audio;

public sealed class WavFileTests
{
    [Fact]
    public void Round_trips_16_bit_mono()
    {
        var samples = MediaTools.Tone(24_000, 0.1, 440);
        var bytes = WavFile.Write(new PcmAudio(24_000, samples));

        var audio = WavFile.Read(bytes);

        Assert.Equal(24_000, audio.SampleRate);
        Assert.Equal(samples.Length, audio.Samples.Length);
        for (var i = 0; i < samples.Length; i++)
        {
            Assert.Equal(samples[i], audio.Samples[i], 1e-4f);
        }

        Assert.Equal(44 + (samples.Length * 2), bytes.Length);
        Assert.Equal((uint)(samples.Length * 2), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(40)));
    }

    [Fact]
    public void Reads_a_streamed_header_whose_sizes_run_past_the_end()
    {
        var bytes = WavFile.Write(new PcmAudio(22_050, [0.25f, -0.5f, 0.75f]));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 0x7FFFFFFF);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(40), 0x7FFFFFFF);

        var audio = WavFile.Read(bytes);

        Assert.Equal(3, audio.Samples.Length);
        Assert.Equal(-0.5f, audio.Samples[1], 1e-4f);
    }

    [Fact]
    public void Mixes_stereo_down_to_mono_and_skips_unknown_chunks()
    {
        var bytes = new List<byte>();
        bytes.AddRange("RIFF\0\0\0\0WAVE"u8.ToArray());
        bytes.AddRange("LIST"u8.ToArray());
        bytes.AddRange(BitConverter.GetBytes(3u));
        bytes.AddRange(new byte[] { 1, 2, 3, 0 });
        bytes.AddRange("fmt "u8.ToArray());
        bytes.AddRange(BitConverter.GetBytes(16u));
        bytes.AddRange(BitConverter.GetBytes((ushort)1));
        bytes.AddRange(BitConverter.GetBytes((ushort)2));
        bytes.AddRange(BitConverter.GetBytes(8000));
        bytes.AddRange(BitConverter.GetBytes(32000));
        bytes.AddRange(BitConverter.GetBytes((ushort)4));
        bytes.AddRange(BitConverter.GetBytes((ushort)16));
        bytes.AddRange("data"u8.ToArray());
        bytes.AddRange(BitConverter.GetBytes(4u));
        bytes.AddRange(BitConverter.GetBytes((short)16384));
        bytes.AddRange(BitConverter.GetBytes((short)0));

        var audio = WavFile.Read(bytes.ToArray());

        Assert.Equal(8000, audio.SampleRate);
        Assert.Equal(0.25f, Assert.Single(audio.Samples), 1e-4f);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 0, 0, 0, 0, (byte)'A', (byte)'V', (byte)'I', (byte)' ' })]
    public void Refuses_what_is_not_wave(byte[] bytes)
    {
        Assert.False(WavFile.TryRead(bytes, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void Pcm16_clips_and_rounds()
    {
        Assert.Equal(short.MaxValue, Pcm16.ToInt16(2f));
        Assert.Equal(short.MinValue, Pcm16.ToInt16(-2f));
        Assert.Equal(0, Pcm16.ToInt16(float.NaN));
        Assert.Equal(16384, Pcm16.ToInt16(16383.5f / 32767f));
        var bytes = Pcm16.FromFloat([0.5f, -0.5f]);
        Assert.Equal(new byte[] { 0x00, 0x40, 0x00, 0xC0 }, bytes);
        Assert.Equal([0.5f, -0.5f], Pcm16.ToFloat(bytes), (a, b) => Math.Abs(a - b) < 1e-4);
    }
}
