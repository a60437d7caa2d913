using System.Diagnostics.CodeAnalysis;
using Capa.Protocol;
using Microsoft.AspNetCore.Http;

namespace Capa.Server.Hosting;

/// <summary>
/// Exceptions the framework throws about the request rather than about the server: Kestrel's
/// <see cref="BadHttpRequestException"/> (broken framing, a body sent too slowly, size and header limits) and the form
/// and multipart readers' complaints about a malformed body. They are the client's error, each with its own status.
/// </summary>
internal static class RequestFailures
{
    // Where the framework's form and multipart readers live; an exception of the same type from anywhere else is a fault.
    private const string FormReaderSource = "Microsoft.AspNetCore.WebUtilities";
    private const string FormFeatureSource = "Microsoft.AspNetCore.Http";

    /// <summary>The client's error for <paramref name="exception"/> (or one it wraps), or false for a server fault.</summary>
    public static bool TryGetError(Exception exception, [NotNullWhen(true)] out ApiError? error)
    {
        for (var (current, depth) = (exception, 0); current is not null && depth < 8; (current, depth) = (current.InnerException, depth + 1))
        {
            switch (current)
            {
                case BadHttpRequestException bad:
                    error = ApiError.UnreadableRequest(bad.StatusCode, bad.Message);
                    return true;
                case InvalidDataException when current.Source is FormReaderSource or FormFeatureSource:
                case IOException when current.Source is FormReaderSource:
                    error = ApiError.UnreadableRequest(StatusCodes.Status400BadRequest, current.Message);
                    return true;
            }
        }

        error = null;
        return false;
    }
}
