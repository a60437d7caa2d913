namespace Capa.Server.Hosting;

/// <summary>An OpenAI-compatible endpoint that serves some model ids.</summary>
public sealed record UpstreamOptions
{
    /// <summary>Name used in logs and errors, e.g. <c>openai</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Base URL including the version segment, e.g. <c>https://api.openai.com/v1</c>.</summary>
    public required Uri BaseUrl { get; init; }

    /// <summary>Bearer key sent to the upstream; <see langword="null"/> sends none.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Model ids served; <c>*</c> serves any id no other provider serves.</summary>
    public IReadOnlyList<string> Models { get; init; } = ["*"];

    /// <summary>Overrides <see cref="CapaServerOptions.UpstreamTimeout"/> for this upstream.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Whether this upstream serves any model id.</summary>
    public bool ServesAnyModel => Models.Contains("*", StringComparer.Ordinal);
}
