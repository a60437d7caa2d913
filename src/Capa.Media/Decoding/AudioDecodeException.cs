namespace Capa.Media.Decoding;

/// <summary>Why an upload could not be turned into samples.</summary>
public enum AudioDecodeFailure
{
    /// <summary>The bytes are empty, not a supported container, or the decoder rejected them.</summary>
    Undecodable,

    /// <summary>The audio is longer than the decoder's duration cap.</summary>
    TooLong,

    /// <summary>The container needs ffmpeg and ffmpeg is not installed.</summary>
    DecoderMissing,
}

/// <summary>An upload could not be decoded; <see cref="Failure"/> says why.</summary>
public sealed class AudioDecodeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AudioDecodeException(AudioDecodeFailure failure, string message, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
    }

    /// <summary>Creates an <see cref="AudioDecodeFailure.Undecodable"/> exception.</summary>
    public AudioDecodeException()
        : this(AudioDecodeFailure.Undecodable, "The audio could not be decoded.")
    {
    }

    /// <summary>Creates an <see cref="AudioDecodeFailure.Undecodable"/> exception.</summary>
    public AudioDecodeException(string message)
        : this(AudioDecodeFailure.Undecodable, message)
    {
    }

    /// <summary>Creates an <see cref="AudioDecodeFailure.Undecodable"/> exception.</summary>
    public AudioDecodeException(string message, Exception inner)
        : this(AudioDecodeFailure.Undecodable, message, inner)
    {
    }

    /// <summary>Why decoding failed.</summary>
    public AudioDecodeFailure Failure { get; }
}
