namespace Capa.Media.Decoding;

/// <summary>The upload containers Capa decodes, recognised by their first bytes (never by the file name).</summary>
public enum AudioContainer
{
    /// <summary>Not one of the containers below.</summary>
    Unknown,

    /// <summary>RIFF/WAVE.</summary>
    Wav,

    /// <summary>Native FLAC (<c>fLaC</c>).</summary>
    Flac,

    /// <summary>MPEG audio (mp3, mpga, mpeg): an ID3v2 tag or an MPEG audio frame sync.</summary>
    Mp3,

    /// <summary>ISO base media (mp4, m4a): a <c>ftyp</c> box.</summary>
    Mp4,

    /// <summary>Ogg (ogg, oga, opus): <c>OggS</c> pages.</summary>
    Ogg,

    /// <summary>Matroska / WebM: the EBML magic.</summary>
    WebM,
}

/// <summary>Recognises an <see cref="AudioContainer"/> from magic bytes and names the one ffmpeg demuxer allowed for it.</summary>
public static class AudioSniffer
{
    /// <summary>The container the bytes start with.</summary>
    public static AudioContainer Sniff(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 12 && bytes[..4].SequenceEqual("RIFF"u8) && bytes.Slice(8, 4).SequenceEqual("WAVE"u8))
        {
            return AudioContainer.Wav;
        }

        if (bytes.Length >= 4 && bytes[..4].SequenceEqual("fLaC"u8))
        {
            return AudioContainer.Flac;
        }

        if (bytes.Length >= 4 && bytes[..4].SequenceEqual("OggS"u8))
        {
            return AudioContainer.Ogg;
        }

        if (bytes.Length >= 4 && bytes[0] == 0x1A && bytes[1] == 0x45 && bytes[2] == 0xDF && bytes[3] == 0xA3)
        {
            return AudioContainer.WebM;
        }

        if (bytes.Length >= 12 && bytes.Slice(4, 4).SequenceEqual("ftyp"u8))
        {
            return AudioContainer.Mp4;
        }

        if (bytes.Length >= 10 && bytes[..3].SequenceEqual("ID3"u8))
        {
            // An ID3v2 tag (version 2–4) precedes MPEG audio frames.
            return bytes[3] is >= 2 and <= 4 ? AudioContainer.Mp3 : AudioContainer.Unknown;
        }

        if (bytes.Length >= 4 && IsMpegAudioFrame(bytes))
        {
            return AudioContainer.Mp3;
        }

        return AudioContainer.Unknown;
    }

    /// <summary>The ffmpeg demuxer (<c>-f</c>) for a container; the only one ffmpeg may use on it.</summary>
    public static string Demuxer(AudioContainer container) => container switch
    {
        AudioContainer.Wav => "wav",
        AudioContainer.Flac => "flac",
        AudioContainer.Mp3 => "mp3",
        AudioContainer.Mp4 => "mov",
        AudioContainer.Ogg => "ogg",
        AudioContainer.WebM => "matroska",
        _ => throw new ArgumentOutOfRangeException(nameof(container), container, "No demuxer is allowed for this container."),
    };

    /// <summary>An MPEG-1/2/2.5 layer I–III frame header: 11 sync bits, a valid version, layer, bitrate and sample rate.</summary>
    private static bool IsMpegAudioFrame(ReadOnlySpan<byte> b)
    {
        if (b[0] != 0xFF || (b[1] & 0xE0) != 0xE0)
        {
            return false;
        }

        int version = (b[1] >> 3) & 3, layer = (b[1] >> 1) & 3, bitrate = b[2] >> 4, rate = (b[2] >> 2) & 3;
        return version != 1 && layer != 0 && bitrate is not (0 or 15) && rate != 3;
    }
}
