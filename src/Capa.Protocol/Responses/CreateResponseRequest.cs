using System.Text.Json;

namespace Capa.Protocol.Responses;

/// <summary>A validated <c>POST /v1/responses</c> body (<c>CreateResponse</c>), read by <see cref="ResponseRequestReader"/>.</summary>
public sealed record CreateResponseRequest
{
    /// <summary>The model id as sent.</summary>
    public required string Model { get; init; }

    /// <summary>The input items (a string input is one user message with one <c>input_text</c> part).</summary>
    public required IReadOnlyList<ResponseItem> Input { get; init; }

    /// <summary>A system message for this turn only, or null.</summary>
    public string? Instructions { get; init; }

    /// <summary>The response to continue, or null.</summary>
    public string? PreviousResponseId { get; init; }

    /// <summary>The conversation to read from and append to, or null.</summary>
    public string? ConversationId { get; init; }

    /// <summary>Whether to store the response (default true).</summary>
    public bool Store { get; init; } = true;

    /// <summary>Whether to run in the background.</summary>
    public bool Background { get; init; }

    /// <summary>Whether to answer with server-sent events.</summary>
    public bool Stream { get; init; }

    /// <summary>Sampling temperature in [0, 2].</summary>
    public double? Temperature { get; init; }

    /// <summary>Nucleus sampling mass in [0, 1].</summary>
    public double? TopP { get; init; }

    /// <summary>Upper bound on output tokens.</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>Upper bound on tool calls.</summary>
    public int? MaxToolCalls { get; init; }

    /// <summary>Seed for reproducible sampling (a Capa extension, as on chat).</summary>
    public long? Seed { get; init; }

    /// <summary>Up to 16 string pairs.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = ResponseDefaults.EmptyMetadata;

    /// <summary>Deprecated end-user identifier.</summary>
    public string? User { get; init; }

    /// <summary>End-user identifier, at most 64 characters.</summary>
    public string? SafetyIdentifier { get; init; }

    /// <summary>Prompt cache key.</summary>
    public string? PromptCacheKey { get; init; }

    /// <summary>Whether several tool calls may be made at once (default true).</summary>
    public bool ParallelToolCalls { get; init; } = true;

    /// <summary>The function tools, in order.</summary>
    public IReadOnlyList<ResponseFunctionTool> Tools { get; init; } = [];

    /// <summary>The <c>file_search</c> tool, or null.</summary>
    public ResponseFileSearchTool? FileSearch { get; init; }

    /// <summary>The tool choice as sent (echoed on the response), default <c>"auto"</c>.</summary>
    public JsonElement ToolChoice { get; init; } = ResponseDefaults.AutoToolChoice;

    /// <summary>The tool choice in chat form, or null for the default.</summary>
    public ToolChoice? ChatToolChoice { get; init; }

    /// <summary>The text settings as echoed on the response (<c>{"format":{...}}</c>).</summary>
    public JsonElement Text { get; init; } = ResponseDefaults.TextFormat;

    /// <summary>The output format in chat form, or null for plain text.</summary>
    public ResponseFormat? Format { get; init; }

    /// <summary>Alternatives per output position, 0 to 20.</summary>
    public int? TopLogprobs { get; init; }

    /// <summary>Extra output to include (<c>message.output_text.logprobs</c>, ...).</summary>
    public IReadOnlyList<string> Include { get; init; } = [];

    /// <summary><c>auto</c> or <c>disabled</c> (default).</summary>
    public string Truncation { get; init; } = "disabled";

    /// <summary>Reasoning settings as sent, or null.</summary>
    public JsonElement? Reasoning { get; init; }

    /// <summary>Service tier as sent, or null.</summary>
    public string? ServiceTier { get; init; }

    /// <summary>Whether output text log probabilities were asked for.</summary>
    public bool WantsLogprobs => Include.Contains("message.output_text.logprobs");
}

/// <summary>A function tool of a response request (<c>FunctionTool</c>): flat, unlike chat's.</summary>
public sealed record ResponseFunctionTool
{
    /// <summary>The function name.</summary>
    public required string Name { get; init; }

    /// <summary>What it does, or null.</summary>
    public string? Description { get; init; }

    /// <summary>The JSON schema of its arguments, or null.</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>Whether its arguments must match the schema exactly, or null when not said.</summary>
    public bool? Strict { get; init; }

    /// <summary>The tool as sent (echoed on the response).</summary>
    public required JsonElement Raw { get; init; }
}

/// <summary>The <c>file_search</c> tool of a request.</summary>
public sealed record ResponseFileSearchTool
{
    /// <summary>The vector stores to search (at least one).</summary>
    public required IReadOnlyList<string> VectorStoreIds { get; init; }

    /// <summary>At most this many results (1–50).</summary>
    public int MaxNumResults { get; init; } = 10;

    /// <summary>Attribute filters, or null.</summary>
    public VectorStores.VectorStoreFilter? Filters { get; init; }

    /// <summary>Ranking options.</summary>
    public VectorStores.RankingOptions RankingOptions { get; init; } = new();

    /// <summary>The tool object as sent (echoed in the response's <c>tools</c>).</summary>
    public required System.Text.Json.JsonElement Raw { get; init; }
}
