using Capa.Protocol;
using Capa.Server.Errors;
using Microsoft.AspNetCore.Http;

namespace Capa.Server.Hosting;

/// <summary>
/// Gives the empty 404 and 405 that routing produces (unknown URL, wrong method) a body in OpenAI's shape.
/// </summary>
internal sealed class StatusCodeErrorMiddleware
{
    private readonly RequestDelegate _next;

    public StatusCodeErrorMiddleware(RequestDelegate next) => _next = next;

    public async Task InvokeAsync(HttpContext context)
    {
        await _next(context).ConfigureAwait(false);
        var response = context.Response;
        if (response.HasStarted || response.ContentLength > 0 || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var path = context.Request.Path.Value ?? "/";
        var error = response.StatusCode switch
        {
            404 => ApiError.UnknownUrl(context.Request.Method, path),
            405 => ApiError.MethodNotAllowed(context.Request.Method, path),
            _ => null,
        };
        if (error is not null)
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
        }
    }
}
