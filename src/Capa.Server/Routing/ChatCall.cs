using Capa.Protocol;

namespace Capa.Server.Routing;

/// <summary>One chat completion request, validated and routed.</summary>
public sealed record ChatCall
{
    /// <summary>The validated request.</summary>
    public required ChatCompletionRequest Request { get; init; }

    /// <summary>
    /// The request body exactly as the client sent it (UTF-8 JSON), for providers that forward it; valid only until the
    /// call completes.
    /// </summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The model id the provider serves (after alias resolution).</summary>
    public required string TargetModel { get; init; }

    /// <summary>The model id the client asked for, echoed in the response's <c>model</c> field.</summary>
    public required string ResponseModel { get; init; }

    /// <summary>The id of the HTTP request, for logs and correlation.</summary>
    public required string RequestId { get; init; }

    /// <summary>
    /// The seed the provider sampled with (the request's, or one it drew), so that any response can be replayed. Set it
    /// before returning the result, or before yielding the first stream event; the server sends it in the
    /// <c>x-capa-seed</c> response header (falling back to the request's <c>seed</c> when left unset).
    /// </summary>
    public long? SeedUsed { get; set; }

    /// <summary>Whether the requested id was an alias of another model.</summary>
    public bool IsAliased => !string.Equals(TargetModel, ResponseModel, StringComparison.Ordinal);
}
