namespace Capa.Media.Codecs;

/// <summary>The audio formats OpenAI's speech endpoint returns.</summary>
public enum AudioFormat
{
    /// <summary>MPEG-1/2 Layer III.</summary>
    Mp3,

    /// <summary>Opus in an Ogg container.</summary>
    Opus,

    /// <summary>AAC-LC in ADTS frames.</summary>
    Aac,

    /// <summary>FLAC (lossless).</summary>
    Flac,

    /// <summary>RIFF/WAVE, 16-bit PCM, mono.</summary>
    Wav,

    /// <summary>Raw 16-bit little-endian PCM, mono, no header.</summary>
    Pcm,
}

/// <summary>Names, media types and file extensions of <see cref="AudioFormat"/>.</summary>
public static class AudioFormats
{
    /// <summary>The wire names, in OpenAI's order: mp3, opus, aac, flac, wav, pcm.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mp3", "opus", "aac", "flac", "wav", "pcm"];

    /// <summary>Parses a wire name (exact, lower case).</summary>
    public static bool TryParse(string? name, out AudioFormat format)
    {
        format = name switch
        {
            "mp3" => AudioFormat.Mp3,
            "opus" => AudioFormat.Opus,
            "aac" => AudioFormat.Aac,
            "flac" => AudioFormat.Flac,
            "wav" => AudioFormat.Wav,
            "pcm" => AudioFormat.Pcm,
            _ => (AudioFormat)(-1),
        };
        return Enum.IsDefined(format);
    }

    /// <summary>The wire name.</summary>
    public static string Name(this AudioFormat format) => Names[(int)format];

    /// <summary>The media type of a response in this format, as OpenAI sends it.</summary>
    public static string ContentType(this AudioFormat format) => format switch
    {
        AudioFormat.Mp3 => "audio/mpeg",
        AudioFormat.Opus => "audio/ogg",
        AudioFormat.Aac => "audio/aac",
        AudioFormat.Flac => "audio/flac",
        AudioFormat.Wav => "audio/wav",
        AudioFormat.Pcm => "audio/pcm",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>The usual file extension, without the dot.</summary>
    public static string Extension(this AudioFormat format) => format.Name();

    /// <summary>Whether encoding needs ffmpeg (wav and pcm are written in managed code).</summary>
    public static bool NeedsFfmpeg(this AudioFormat format) => format is not (AudioFormat.Wav or AudioFormat.Pcm);
}
