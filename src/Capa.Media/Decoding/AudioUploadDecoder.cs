using System.Buffers.Binary;
using Capa.Media.Audio;
using Capa.Media.Processes;

namespace Capa.Media.Decoding;

/// <summary>Limits and tools of <see cref="AudioUploadDecoder"/>.</summary>
public sealed record AudioDecodeOptions
{
    /// <summary>The output sample rate (Whisper hears 16 kHz).</summary>
    public int SampleRate { get; init; } = 16000;

    /// <summary>Longer audio is refused rather than decoded (it bounds memory: 2 bytes per sample while decoding).</summary>
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromHours(2);

    /// <summary>ffmpeg's path or name on PATH.</summary>
    public string Ffmpeg { get; init; } = "ffmpeg";

    /// <summary>Wall-clock limit of one ffmpeg run; past it the process tree is killed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// Turns an uploaded audio file into mono samples at one rate. WAV is read in managed code; every other container
/// goes through ffmpeg, run hardened: the bytes arrive on a pipe (<c>-protocol_whitelist pipe</c>, so no file,
/// network or playlist reference can be followed), the demuxer is fixed to the one matching the sniffed magic bytes,
/// only the first audio stream is mapped, duration and output are capped, and a timeout kills the process tree.
/// </summary>
public static class AudioUploadDecoder
{
    /// <summary>Decodes <paramref name="bytes"/>.</summary>
    /// <exception cref="AudioDecodeException">The upload is empty, unsupported, corrupt, too long, or needs a missing ffmpeg.</exception>
    public static async Task<PcmAudio> DecodeAsync(ReadOnlyMemory<byte> bytes, AudioDecodeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new AudioDecodeOptions();
        if (bytes.IsEmpty)
        {
            throw new AudioDecodeException(AudioDecodeFailure.Undecodable, "The file is empty.");
        }

        AudioContainer container = AudioSniffer.Sniff(bytes.Span);
        switch (container)
        {
            case AudioContainer.Unknown:
                throw new AudioDecodeException(AudioDecodeFailure.Undecodable, "The file is not audio in a supported container.");
            case AudioContainer.Wav when WavFile.TryRead(bytes.Span, out PcmAudio? wav, out _):
                return FromWav(wav, options);
            default:
                return await DecodeWithFfmpegAsync(bytes, container, options, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether ffmpeg can be started (the server checks at start-up and says how to install it).</summary>
    public static bool IsFfmpegAvailable(AudioDecodeOptions? options = null) =>
        ExecutableLocator.TryFind((options ?? new AudioDecodeOptions()).Ffmpeg, out _);

    private static PcmAudio FromWav(PcmAudio wav, AudioDecodeOptions options)
    {
        if (wav.Duration > options.MaxDuration)
        {
            throw TooLong(options);
        }

        if (wav.Samples.Length == 0)
        {
            throw new AudioDecodeException(AudioDecodeFailure.Undecodable, "The WAV file holds no samples.");
        }

        return wav.SampleRate == options.SampleRate ? wav : Resampler.Resample(wav, options.SampleRate);
    }

    private static async Task<PcmAudio> DecodeWithFfmpegAsync(ReadOnlyMemory<byte> bytes, AudioContainer container, AudioDecodeOptions options, CancellationToken ct)
    {
        if (!ExecutableLocator.TryFind(options.Ffmpeg, out string? ffmpeg))
        {
            throw new AudioDecodeException(AudioDecodeFailure.DecoderMissing,
                "Decoding this audio format needs ffmpeg, which is not installed (Debian/Ubuntu: apt-get install ffmpeg).");
        }

        // One second past the cap tells "exactly at the cap" from "longer than the cap".
        double capSeconds = options.MaxDuration.TotalSeconds + 1;
        long maxOutput = (long)(capSeconds * options.SampleRate * 2) + 4096;
        string[] arguments =
        [
            "-nostdin", "-hide_banner", "-loglevel", "error",
            "-protocol_whitelist", "pipe",
            "-f", AudioSniffer.Demuxer(container),
            "-i", "pipe:0",
            "-map", "0:a:0", "-vn", "-sn", "-dn",
            "-t", capSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
            "-ac", "1", "-ar", options.SampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-f", "s16le", "-acodec", "pcm_s16le",
            "pipe:1",
        ];
        using var output = new MemoryStream();
        using var input = new MemoryStream(bytes.ToArray(), writable: false);
        try
        {
            await MediaProcess.RunAsync(ffmpeg, arguments, input, output,
                new MediaProcessLimits { Timeout = options.Timeout, MaxOutputBytes = maxOutput }, ct).ConfigureAwait(false);
        }
        catch (MediaProcessException ex) when (ex.Failure == MediaProcessFailure.OutputTooLarge)
        {
            throw TooLong(options);
        }
        catch (MediaProcessException ex) when (ex.Failure == MediaProcessFailure.StartFailed)
        {
            throw new AudioDecodeException(AudioDecodeFailure.DecoderMissing, "ffmpeg could not be started: " + ex.Message, ex);
        }
        catch (MediaProcessException ex)
        {
            throw new AudioDecodeException(AudioDecodeFailure.Undecodable, "ffmpeg could not decode the audio: " + ex.Message, ex);
        }

        ReadOnlySpan<byte> pcm = output.GetBuffer().AsSpan(0, (int)output.Length);
        int count = pcm.Length / 2;
        if (count == 0)
        {
            throw new AudioDecodeException(AudioDecodeFailure.Undecodable, "The file holds no audio samples.");
        }

        if (count > options.MaxDuration.TotalSeconds * options.SampleRate)
        {
            throw TooLong(options);
        }

        var samples = new float[count];
        for (int i = 0; i < count; i++)
        {
            samples[i] = BinaryPrimitives.ReadInt16LittleEndian(pcm.Slice(2 * i, 2)) / 32768f;
        }

        return new PcmAudio(options.SampleRate, samples);
    }

    private static AudioDecodeException TooLong(AudioDecodeOptions options) =>
        new(AudioDecodeFailure.TooLong, $"The audio is longer than {options.MaxDuration.TotalSeconds:0} seconds, the most this server decodes.");
}
