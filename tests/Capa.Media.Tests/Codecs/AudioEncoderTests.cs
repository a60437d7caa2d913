using Capa.Media.Audio;
using Capa.Media.Codecs;

namespace Capa.Media.Tests.Codecs;

public sealed class AudioEncoderTests
{
    private const int Rate = 24_000;

    [RequiresToolsTheory("ffmpeg", "ffprobe")]
    [InlineData(AudioFormat.Mp3, "mp3", "mp3", Rate)]
    [InlineData(AudioFormat.Aac, "aac", "aac", Rate)]
    [InlineData(AudioFormat.Flac, "flac", "flac", Rate)]
    [InlineData(AudioFormat.Wav, "wav", "pcm_s16le", Rate)]

    // Opus always decodes at 48 kHz; the 24 kHz input rate is kept only as a hint in its header.
    [InlineData(AudioFormat.Opus, "ogg", "opus", 48_000)]
    public async Task Every_format_is_what_ffprobe_calls_it_at_its_rate(AudioFormat format, string container, string codec, int probedRate)
    {
        var tone = MediaTools.Tone(Rate, 1.0, 440);
        var bytes = await EncodeAsync(format, tone, chunk: 2400);

        var probe = await MediaTools.ProbeAsync(bytes);

        Assert.Equal(container, probe.FormatName);
        Assert.Equal(codec, probe.CodecName);
        Assert.Equal(probedRate, probe.SampleRate);
        Assert.Equal(1, probe.Channels);

        // Decoded, it is still about a second of a 440 Hz tone at the same loudness.
        var decoded = await MediaTools.DecodeAsync(bytes, Rate);
        Assert.InRange(decoded.Duration.TotalSeconds, 0.95, 1.15);
        Assert.InRange(decoded.Rms(), 0.3, 0.42);
    }

    [RequiresToolsFact("ffmpeg", "ffprobe")]
    public async Task Pcm_is_raw_little_endian_16_bit()
    {
        var tone = MediaTools.Tone(Rate, 0.5, 440);
        var bytes = await EncodeAsync(AudioFormat.Pcm, tone, chunk: 1000);

        Assert.Equal(tone.Length * 2, bytes.Length);
        Assert.Equal(Pcm16.FromFloat(tone), bytes);
        var probe = await MediaTools.ProbeAsync(bytes, "-f s16le -ar 24000 -ac 1");
        Assert.Equal("pcm_s16le", probe.CodecName);
    }

    [RequiresToolsFact("ffmpeg")]
    public async Task Flac_is_lossless()
    {
        var tone = MediaTools.Tone(Rate, 0.5, 440);
        var bytes = await EncodeAsync(AudioFormat.Flac, tone, chunk: 777);
        var decoded = await MediaTools.DecodeAsync(bytes);
        Assert.Equal(Pcm16.FromFloat(tone), Pcm16.FromFloat(decoded.Samples));
    }

    [RequiresToolsTheory("ffmpeg")]
    [InlineData(AudioFormat.Mp3)]
    [InlineData(AudioFormat.Opus)]
    [InlineData(AudioFormat.Aac)]
    [InlineData(AudioFormat.Flac)]
    public async Task The_same_samples_give_the_same_bytes(AudioFormat format)
    {
        var tone = MediaTools.Tone(Rate, 0.7, 300);
        var first = await EncodeAsync(format, tone, chunk: 1200);
        var second = await EncodeAsync(format, tone, chunk: 5000);
        Assert.Equal(first, second);
    }

    [RequiresToolsFact("ffmpeg")]
    public async Task Encoded_bytes_arrive_before_the_input_ends()
    {
        var firstOutput = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var encoder = AudioEncoder.Create(AudioFormat.Mp3, Rate, (_, _) =>
        {
            firstOutput.TrySetResult();
            return ValueTask.CompletedTask;
        });

        // Keep feeding until mp3 frames come out, while the input is still open.
        var tone = MediaTools.Tone(Rate, 0.5, 440);
        for (var i = 0; i < 40 && !firstOutput.Task.IsCompleted; i++)
        {
            await encoder.WriteAsync(tone, CancellationToken.None);
            await Task.WhenAny(firstOutput.Task, Task.Delay(250));
        }

        Assert.True(firstOutput.Task.IsCompleted, "No output while the input was open.");
        await encoder.CompleteAsync(CancellationToken.None);
    }

    [RequiresToolsFact("ffmpeg")]
    public async Task A_missing_ffmpeg_fails_with_a_start_failure()
    {
        var options = new FfmpegOptions { Executable = "/nonexistent/ffmpeg" };
        await using var encoder = AudioEncoder.Create(AudioFormat.Mp3, Rate, (_, _) => ValueTask.CompletedTask, options);
        var error = await Assert.ThrowsAsync<Capa.Media.Processes.MediaProcessException>(async () =>
        {
            await encoder.WriteAsync(MediaTools.Tone(Rate, 0.1, 440), CancellationToken.None);
            await encoder.CompleteAsync(CancellationToken.None);
        });
        Assert.Equal(Capa.Media.Processes.MediaProcessFailure.StartFailed, error.Failure);
    }

    private static async Task<byte[]> EncodeAsync(AudioFormat format, float[] samples, int chunk)
    {
        using var output = new MemoryStream();
        await using var encoder = AudioEncoder.Create(format, Rate, (bytes, ct) => output.WriteAsync(bytes, ct));
        for (var offset = 0; offset < samples.Length; offset += chunk)
        {
            await encoder.WriteAsync(samples.AsMemory(offset, Math.Min(chunk, samples.Length - offset)), CancellationToken.None);
        }

        await encoder.CompleteAsync(CancellationToken.None);
        return output.ToArray();
    }
}
