using System.Globalization;
using Capa.Protocol;
using Microsoft.AspNetCore.Http;

namespace Capa.Server.Errors;

/// <summary>Writes errors in OpenAI's shape: <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal static class ErrorWriter
{
    /// <summary>
    /// Writes an error response unless the response has already started. <paramref name="body"/>, when given, is sent
    /// instead of the serialized error (an upstream's own error body).
    /// </summary>
    public static Task WriteAsync(HttpContext context, ApiError error, ReadOnlyMemory<byte> body = default)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        if (error.RetryAfterSeconds is { } retryAfter)
        {
            response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        }

        var bytes = body.IsEmpty ? error.ToUtf8Json() : body;
        response.ContentLength = bytes.Length;
        return response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }
}
