namespace Capa.Protocol;

/// <summary>
/// Bounds applied by <see cref="ChatRequestReader"/> so that no request body can exhaust the server.
/// The defaults follow OpenAI's published limits where it has them.
/// </summary>
public sealed record ChatRequestLimits
{
    /// <summary>The default limits.</summary>
    public static ChatRequestLimits Default { get; } = new();

    /// <summary>Largest body in bytes; larger bodies get 413. Default 32 MiB.</summary>
    public int MaxBodyBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>Deepest JSON nesting accepted (System.Text.Json's reader <c>MaxDepth</c>). Default 64.</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Most messages in one request. Default 4096.</summary>
    public int MaxMessages { get; init; } = 4096;

    /// <summary>Most content parts in one message. Default 1024.</summary>
    public int MaxContentParts { get; init; } = 1024;

    /// <summary>Longest string value, in UTF-16 characters. Default 10,485,760 (OpenAI's content limit).</summary>
    public int MaxStringLength { get; init; } = 10 * 1024 * 1024;

    /// <summary>Most tools. Default 128 (OpenAI's limit).</summary>
    public int MaxTools { get; init; } = 128;

    /// <summary>Most tool calls in one assistant message. Default 1024.</summary>
    public int MaxToolCalls { get; init; } = 1024;

    /// <summary>Most <c>logit_bias</c> entries. Default 1024.</summary>
    public int MaxLogitBiasEntries { get; init; } = 1024;
}
