using Capa.Protocol;
using Capa.Server.Errors;
using Capa.Server.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Auth;

/// <summary>
/// Requires <c>Authorization: Bearer KEY</c> on API endpoints when keys are configured. Health checks and unknown URLs
/// are left alone. The presented key is never logged.
/// </summary>
internal sealed class ApiKeyMiddleware
{
    /// <summary>Endpoint metadata that lets a request through without a key.</summary>
    internal sealed class AllowAnonymous;

    private readonly RequestDelegate _next;
    private readonly ApiKeyValidator _validator;
    private readonly ILogger _logger;

    public ApiKeyMiddleware(RequestDelegate next, ApiKeyValidator validator, ILogger<ApiKeyMiddleware> logger)
    {
        _next = next;
        _validator = validator;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (!_validator.Enabled || endpoint is null || endpoint.Metadata.GetMetadata<AllowAnonymous>() is not null)
        {
            return _next(context);
        }

        var header = context.Request.Headers.Authorization;
        ApiError? error = null;
        if (header.Count != 1 || !TryGetBearer(header[0], out var key))
        {
            error = ApiError.MissingApiKey();
        }
        else if (!_validator.IsValid(key))
        {
            error = ApiError.InvalidApiKey(key.ToString());
        }

        if (error is null)
        {
            return _next(context);
        }

        ServerLog.Rejected(_logger, RequestIds.Get(context), error.Status, error.Code);
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return ErrorWriter.WriteAsync(context, error);
    }

    private static bool TryGetBearer(string? value, out ReadOnlySpan<char> key)
    {
        key = default;
        if (value is null)
        {
            return false;
        }

        var span = value.AsSpan().Trim();
        if (span.Length <= 7 || !span[..7].Equals("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        key = span[7..].Trim();
        return !key.IsEmpty;
    }
}
