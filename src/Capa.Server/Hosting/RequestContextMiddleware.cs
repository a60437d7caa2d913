using System.Diagnostics;
using Capa.Protocol;
using Capa.Server.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Hosting;

/// <summary>
/// Outermost middleware: gives every request an id (<c>x-request-id</c>), logs its outcome, and turns any exception
/// into OpenAI's error shape without internals: a request the framework could not read (see <see cref="RequestFailures"/>)
/// gets its own 4xx, anything else a 500. A client that went away is logged, not treated as an error.
/// </summary>
internal sealed class RequestContextMiddleware
{
    private readonly RequestDelegate _next;
    private readonly ILogger _logger;

    public RequestContextMiddleware(RequestDelegate next, ILogger<RequestContextMiddleware> logger)
    {
        _next = next;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var requestId = RequestIds.New();
        context.Items[RequestIds.ItemKey] = requestId;
        context.TraceIdentifier = requestId;
        context.Response.Headers["x-request-id"] = requestId;
        var started = Stopwatch.GetTimestamp();
        var method = context.Request.Method;

        // The path is logged without its query string, which could carry secrets in misconfigured clients.
        var path = context.Request.Path.Value ?? "/";
        try
        {
            await _next(context).ConfigureAwait(false);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            ServerLog.RequestAborted(_logger, requestId, method, path, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return;
        }
        catch (Exception e) when (RequestFailures.TryGetError(e, out var refused))
        {
            // The request could not be read (Kestrel's framing, rate and size checks, the form readers): the client's
            // error with its own status, and one line in the log; a stack trace would only point into the framework.
            ServerLog.RequestUnreadable(_logger, requestId, refused.Status, refused.Message);
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }

            context.Response.Clear();
            context.Response.Headers["x-request-id"] = requestId;
            await ErrorWriter.WriteAsync(context, refused).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ServerLog.UnhandledError(_logger, requestId, e);
            if (context.Response.HasStarted)
            {
                // Headers are gone: the only honest signal left is to break the connection.
                context.Abort();
                return;
            }

            context.Response.Clear();
            context.Response.Headers["x-request-id"] = requestId;
            await ErrorWriter.WriteAsync(context, ApiError.ServerError()).ConfigureAwait(false);
        }

        if (context.RequestAborted.IsCancellationRequested)
        {
            ServerLog.RequestAborted(_logger, requestId, method, path, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        else
        {
            ServerLog.RequestFinished(_logger, requestId, method, path, context.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
