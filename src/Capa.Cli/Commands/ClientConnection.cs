using System.ClientModel;
using System.CommandLine;
using OpenAI;

namespace Capa.Cli.Commands;

/// <summary>
/// Where the client commands (chat, json, repro) send their requests: the local server by default,
/// or any OpenAI-compatible endpoint through <c>--base-url</c> / <c>OPENAI_BASE_URL</c>.
/// </summary>
internal sealed record ClientConnection(Uri BaseUrl, string ApiKey)
{
    /// <summary>The local server's address when nothing else is said.</summary>
    public const string DefaultBaseUrl = "http://127.0.0.1:8080/v1";

    public static Option<string?> BaseUrlOption() => new("--base-url")
    {
        Description = $"OpenAI-compatible endpoint (default: OPENAI_BASE_URL, else {DefaultBaseUrl}).",
    };

    public static Option<string?> ApiKeyOption() => new("--api-key")
    {
        Description = "API key (default: OPENAI_API_KEY).",
    };

    /// <summary>Resolves the connection from the options, then the environment, then the defaults.</summary>
    public static ClientConnection Resolve(string? baseUrl, string? apiKey)
    {
        var url = FirstNonEmpty(baseUrl, Environment.GetEnvironmentVariable("OPENAI_BASE_URL")) ?? DefaultBaseUrl;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliException($"The base URL '{url}' is not an absolute http(s) URL.");
        }

        // The SDK refuses an empty key; a local server without keys ignores whatever is sent.
        var key = FirstNonEmpty(apiKey, Environment.GetEnvironmentVariable("OPENAI_API_KEY")) ?? "capa-local";
        return new ClientConnection(uri, key);
    }

    public OpenAIClient CreateClient() =>
        new(new ApiKeyCredential(ApiKey), new OpenAIClientOptions { Endpoint = BaseUrl, NetworkTimeout = TimeSpan.FromMinutes(10) });

    private static string? FirstNonEmpty(params string?[] values) =>
        values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
