namespace Capa.Models.Hub;

/// <summary>Why a hub operation failed.</summary>
public enum HubErrorKind
{
    /// <summary>The model reference is not <c>ORG/NAME[@REV]</c>.</summary>
    InvalidReference,

    /// <summary>The repository does not exist (or is private and no token can read it).</summary>
    RepositoryNotFound,

    /// <summary>The revision (branch, tag, commit) does not exist in the repository.</summary>
    RevisionNotFound,

    /// <summary>A file listed by the hub could not be found when downloading it.</summary>
    FileNotFound,

    /// <summary>The repository is gated or private and the token is missing, invalid, or has not accepted its licence (401/403).</summary>
    AccessDenied,

    /// <summary>The repository has no ONNX files of the variant asked for.</summary>
    VariantNotFound,

    /// <summary>A downloaded file's sha256 or size is not what the hub announced.</summary>
    ChecksumMismatch,

    /// <summary>The store's disk has not enough free space.</summary>
    DiskFull,

    /// <summary>A file could not be written or moved in the store.</summary>
    StorageError,

    /// <summary>The connection kept failing (cut, stalled, unreachable) after every retry.</summary>
    Interrupted,

    /// <summary>The hub kept answering with a server error (5xx, 429) or an unexpected status.</summary>
    ServerError,

    /// <summary>The hub's answer could not be understood.</summary>
    InvalidResponse,

    /// <summary>Another pull of the same model is running.</summary>
    Busy,

    /// <summary>The hub's host name could not be resolved (offline, or a wrong <c>HF_ENDPOINT</c>); not retried.</summary>
    HostNotFound,
}

/// <summary>A hub failure with a message meant for the user (what happened and what to do).</summary>
public sealed class HubException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HubException(HubErrorKind kind, string message, Exception? innerException = null, int? statusCode = null)
        : base(message, innerException)
    {
        Kind = kind;
        StatusCode = statusCode;
    }

    /// <summary>Why it failed.</summary>
    public HubErrorKind Kind { get; }

    /// <summary>The HTTP status of the answer that caused it, when there was one.</summary>
    public int? StatusCode { get; }

    /// <summary>Whether trying the same request again may succeed (cut connection, 5xx, 429).</summary>
    internal bool IsTransient => Kind is HubErrorKind.Interrupted or HubErrorKind.ServerError;
}
