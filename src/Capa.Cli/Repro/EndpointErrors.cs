using System.ClientModel;
using System.Text.Json;
using Capa.Cli.Commands;

namespace Capa.Cli.Repro;

/// <summary>
/// Turns the SDK's failures into one line the user can act on. The SDK's retry policy wraps repeated connection
/// failures in an <see cref="AggregateException"/>, reports an unreachable host as a <see cref="ClientResultException"/>
/// with status 0, and puts OpenAI's error object in a multi-line message; none of that should reach a terminal as is.
/// </summary>
internal static class EndpointErrors
{
    public static async Task<T> CallAsync<T>(Uri endpoint, Func<Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0 && e.InnerExceptions.All(x => x is ClientResultException or HttpRequestException))
        {
            throw Describe(endpoint, e.InnerExceptions[^1]);
        }
        catch (ClientResultException e)
        {
            throw Describe(endpoint, e);
        }
        catch (HttpRequestException e)
        {
            throw Describe(endpoint, e);
        }
    }

    internal static CliException Describe(Uri endpoint, Exception error)
    {
        if (error is ClientResultException { Status: > 0 } answered)
        {
            return new CliException($"{endpoint} answered {answered.Status}: {ErrorMessage(answered)}");
        }

        var root = error;
        while (root.InnerException is not null)
        {
            root = root.InnerException;
        }

        return new CliException($"could not reach {endpoint}: {OneLine(root.Message)} (is the server running? see capa serve, --base-url)");
    }

    /// <summary>OpenAI's <c>error.message</c> (with type, param and code when given), else the SDK's first line.</summary>
    private static string ErrorMessage(ClientResultException error)
    {
        try
        {
            var body = error.GetRawResponse()?.Content;
            if (body is not null && body.ToMemory().Length > 0)
            {
                using var document = JsonDocument.Parse(body.ToMemory());
                if (document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("error", out var inner) && inner.ValueKind == JsonValueKind.Object
                    && inner.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                {
                    var details = new[] { "type", "param", "code" }
                        .Select(name => inner.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? $"{name} {s}" : null)
                        .OfType<string>()
                        .ToList();
                    return OneLine(message.GetString()!) + (details.Count > 0 ? $" ({string.Join(", ", details)})" : string.Empty);
                }
            }
        }
        catch (JsonException)
        {
            // Not OpenAI's error shape (a proxy's HTML page, say): fall back to the SDK's message.
        }

        return OneLine(error.Message);
    }

    private static string OneLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no message)" : string.Join(" ", lines);
    }
}
