using Capa.Protocol;

namespace Capa.Server.Routing;

/// <summary>
/// An error a provider answers with, in OpenAI's shape and with its HTTP status. The message reaches the client: never
/// put internals, keys or request content in it.
/// </summary>
public sealed class ChatProviderException : Exception
{
    public ChatProviderException()
        : this(ApiError.ServerError())
    {
    }

    public ChatProviderException(string message)
        : this(new ApiError(500, message, ApiError.ServerErrorType))
    {
    }

    public ChatProviderException(string message, Exception innerException)
        : this(new ApiError(500, message, ApiError.ServerErrorType), innerException)
    {
    }

    /// <summary>Creates the exception for an error the client receives as is.</summary>
    public ChatProviderException(ApiError error, Exception? innerException = null)
        : base(error?.Message, innerException)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error.Status < 400)
        {
            throw new ArgumentOutOfRangeException(nameof(error), error.Status, "An error status is 4xx or 5xx.");
        }

        Error = error;
    }

    /// <summary>The error, with its status.</summary>
    public ApiError Error { get; }

    /// <summary>
    /// A complete error body to send as is (an upstream's own <c>{"error":...}</c>, with any extra fields it has); when
    /// empty the server serializes <see cref="Error"/>.
    /// </summary>
    public ReadOnlyMemory<byte> Body { get; init; }
}
