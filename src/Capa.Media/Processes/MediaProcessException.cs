namespace Capa.Media.Processes;

/// <summary>
/// A run of an external tool that failed. <see cref="Exception.Message"/> names the tool and the reason and is meant
/// for logs; <see cref="StandardError"/> may hold paths or input text and must never reach a client.
/// </summary>
public sealed class MediaProcessException : Exception
{
    /// <summary>Creates an exception.</summary>
    public MediaProcessException(MediaProcessFailure failure, string message, string standardError = "", int? exitCode = null, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
        StandardError = standardError;
        ExitCode = exitCode;
    }

    /// <summary>Creates an exception with a message only (for serializers and tests).</summary>
    public MediaProcessException()
        : this(MediaProcessFailure.ExitCode, "The media tool failed.")
    {
    }

    /// <summary>Creates an exception with a message only.</summary>
    public MediaProcessException(string message)
        : this(MediaProcessFailure.ExitCode, message)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    public MediaProcessException(string message, Exception inner)
        : this(MediaProcessFailure.PipeFailed, message, "", null, inner)
    {
    }

    /// <summary>Why the run failed.</summary>
    public MediaProcessFailure Failure { get; }

    /// <summary>The tail of the tool's standard error (diagnostics only).</summary>
    public string StandardError { get; }

    /// <summary>The exit status, when the tool exited on its own.</summary>
    public int? ExitCode { get; }
}
