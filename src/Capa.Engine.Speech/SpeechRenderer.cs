using Capa.Media.Audio;
using Capa.Media.Codecs;

namespace Capa.Engine.Speech;

/// <summary>What a finished rendering produced.</summary>
public sealed record SpeechRenderResult
{
    /// <summary>Samples at <see cref="SpeechRenderer.OutputSampleRate"/>.</summary>
    public required long Samples { get; init; }

    /// <summary>Encoded bytes written.</summary>
    public required long Bytes { get; init; }

    /// <summary>The audio's duration.</summary>
    public TimeSpan Duration => TimeSpan.FromSeconds((double)Samples / SpeechRenderer.OutputSampleRate);
}

/// <summary>
/// Speaks with a voice and encodes as it goes: every piece the voice yields is resampled to 24 kHz (one resampler for
/// the whole stream, so piece boundaries leave no seams) and handed to the encoder at once, so the first encoded bytes
/// leave while later sentences are still being spoken.
/// </summary>
public static class SpeechRenderer
{
    /// <summary>The sample rate of every output, as OpenAI's (pcm is documented as 24 kHz).</summary>
    public const int OutputSampleRate = 24_000;

    /// <summary>Version of the rendering path (resampler and its parameters); part of the voice fingerprint.</summary>
    public const string Version = "kaiser-sinc16-b8-r0.94/24k/v1";

    /// <summary>Renders <paramref name="input"/> with <paramref name="voice"/> into <paramref name="format"/>.</summary>
    /// <exception cref="SpeechSynthesisException">The voice failed.</exception>
    /// <exception cref="Capa.Media.Processes.MediaProcessException">The encoder failed.</exception>
    public static async Task<SpeechRenderResult> RenderAsync(
        ISpeechVoice voice,
        SpeechInput input,
        AudioFormat format,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> output,
        FfmpegOptions? ffmpeg,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(voice);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        long bytes = 0;
        await using var encoder = AudioEncoder.Create(
            format,
            OutputSampleRate,
            (chunk, ct) =>
            {
                bytes += chunk.Length;
                return output(chunk, ct);
            },
            ffmpeg);

        Resampler? resampler = null;
        var buffer = new List<float>();
        long samples = 0;
        await foreach (var piece in voice.SynthesizeAsync(input, cancellationToken).ConfigureAwait(false))
        {
            if (resampler is not null && resampler.InputRate != piece.SampleRate)
            {
                resampler.Flush(buffer);
                resampler = null;
            }

            resampler ??= new Resampler(piece.SampleRate, OutputSampleRate);
            resampler.Process(piece.Samples, buffer);
            samples += await WriteAsync(encoder, buffer, cancellationToken).ConfigureAwait(false);
        }

        resampler?.Flush(buffer);
        if (samples + buffer.Count == 0)
        {
            // Nothing speakable (only punctuation or symbols): a tenth of a second of silence is still a valid file.
            buffer.AddRange(new float[OutputSampleRate / 10]);
        }

        samples += await WriteAsync(encoder, buffer, cancellationToken).ConfigureAwait(false);
        await encoder.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return new SpeechRenderResult { Samples = samples, Bytes = bytes };
    }

    private static async Task<int> WriteAsync(AudioEncoder encoder, List<float> buffer, CancellationToken cancellationToken)
    {
        var count = buffer.Count;
        if (count > 0)
        {
            await encoder.WriteAsync(buffer.ToArray(), cancellationToken).ConfigureAwait(false);
            buffer.Clear();
        }

        return count;
    }
}
