namespace Capa.Models.Hub;

/// <summary>How a <see cref="HubClient"/> reaches a Hugging Face compatible hub.</summary>
public sealed record HubClientOptions
{
    /// <summary>The public Hugging Face hub.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>The hub's base address (<c>HF_ENDPOINT</c>), e.g. <c>https://huggingface.co</c> or a mirror.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>An access token (<c>HF_TOKEN</c>) sent as <c>Authorization: Bearer</c> to the hub; needed for gated and private repositories.</summary>
    public string? Token { get; init; }

    /// <summary>The client to use (not disposed by the hub client). Takes precedence over <see cref="Handler"/>.</summary>
    public HttpClient? HttpClient { get; init; }

    /// <summary>The handler to build the client on (not disposed by the hub client), e.g. for a proxy or tests.</summary>
    public HttpMessageHandler? Handler { get; init; }

    /// <summary>The clock that dates a pull (the manifest's <c>pulled_at</c>). Default the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How many times one request is retried after a cut connection, a stall or a 5xx/429 answer; downloads resume where they stopped.</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>The wait before the first retry; it doubles with each further retry, up to 30 seconds.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long to wait for a response's headers.</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a download may go without receiving a byte before the connection counts as stalled and is retried.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The free bytes on the file system holding a folder; <see langword="null"/> when unknown. Replaceable to test disk-full handling.</summary>
    internal Func<string, long?> FreeSpaceProbe { get; init; } = DefaultFreeSpace;

    /// <summary>
    /// Options from the environment: <c>HF_ENDPOINT</c> (default <see cref="DefaultEndpoint"/>) and <c>HF_TOKEN</c>
    /// (or the older <c>HUGGING_FACE_HUB_TOKEN</c>).
    /// </summary>
    public static HubClientOptions FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>
    /// Options from environment variables read through <paramref name="getVariable"/> (a server's own view of the
    /// environment, which tests replace): <c>HF_ENDPOINT</c>, <c>HF_TOKEN</c> or <c>HUGGING_FACE_HUB_TOKEN</c>.
    /// </summary>
    public static HubClientOptions FromEnvironment(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        var endpoint = getVariable("HF_ENDPOINT");
        var token = getVariable("HF_TOKEN");
        if (string.IsNullOrWhiteSpace(token))
        {
            token = getVariable("HUGGING_FACE_HUB_TOKEN");
        }

        return new HubClientOptions
        {
            Endpoint = string.IsNullOrWhiteSpace(endpoint) ? DefaultEndpoint : endpoint.Trim(),
            Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim(),
        };
    }

    /// <summary>Describes the options without the token, so that logging them cannot leak it.</summary>
    public override string ToString() =>
        $"HubClientOptions {{ Endpoint = {Endpoint}, Token = {(Token is null ? "(none)" : "(set)")}, MaxRetries = {MaxRetries}, " +
        $"RetryDelay = {RetryDelay}, ResponseTimeout = {ResponseTimeout}, ReadTimeout = {ReadTimeout} }}";

    private static long? DefaultFreeSpace(string directory)
    {
        try
        {
            return new DriveInfo(directory).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}
