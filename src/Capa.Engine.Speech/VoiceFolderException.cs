namespace Capa.Engine.Speech;

/// <summary>A voice folder is missing a file, has a file that cannot be read, or a graph without the expected inputs.</summary>
public sealed class VoiceFolderException : Exception
{
    /// <summary>Creates an exception.</summary>
    public VoiceFolderException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public VoiceFolderException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    public VoiceFolderException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
