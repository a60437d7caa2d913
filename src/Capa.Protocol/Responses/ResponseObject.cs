using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol.Responses;

/// <summary>The Responses API's response object (<c>Response</c>, object <c>response</c>).</summary>
/// <remarks>Members are written as OpenAI writes them: every member present, unset ones as <c>null</c>.</remarks>
public sealed record ResponseObject
{
    /// <summary>The <c>object</c> value of this type.</summary>
    public const string ObjectType = "response";

    /// <summary><c>resp_...</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>response</c>.</summary>
    public string Object { get; init; } = ObjectType;

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary><c>queued</c>, <c>in_progress</c>, <c>completed</c>, <c>incomplete</c>, <c>failed</c> or <c>cancelled</c>.</summary>
    public required string Status { get; init; }

    /// <summary>Whether the response runs in the background.</summary>
    public bool Background { get; init; }

    /// <summary>Unix time in seconds when it completed; null otherwise.</summary>
    public long? CompletedAt { get; init; }

    /// <summary>Why it failed, or null.</summary>
    public ResponseErrorInfo? Error { get; init; }

    /// <summary>Why it is incomplete, or null.</summary>
    public IncompleteDetails? IncompleteDetails { get; init; }

    /// <summary>The instructions of this request (never inherited through <c>previous_response_id</c>).</summary>
    public string? Instructions { get; init; }

    /// <summary>The output token limit, or null.</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>The tool call limit, or null.</summary>
    public int? MaxToolCalls { get; init; }

    /// <summary>The model id as the client asked for it.</summary>
    public required string Model { get; init; }

    /// <summary>The generated items.</summary>
    public IReadOnlyList<ResponseItem> Output { get; init; } = [];

    /// <summary>Whether several tool calls may be made at once.</summary>
    public bool ParallelToolCalls { get; init; } = true;

    /// <summary>The response this one continues, or null.</summary>
    public string? PreviousResponseId { get; init; }

    /// <summary>The conversation this response belongs to, or null.</summary>
    public ConversationReference? Conversation { get; init; }

    /// <summary>Reasoning settings (<c>{"effort":null,"summary":null}</c> for models that do not reason).</summary>
    public JsonElement Reasoning { get => OrDefault(_reasoning, ResponseDefaults.NoReasoning); init => _reasoning = value; }

    /// <summary>The end-user identifier, or null.</summary>
    public string? SafetyIdentifier { get; init; }

    /// <summary>The service tier.</summary>
    public string ServiceTier { get; init; } = "default";

    /// <summary>Whether the response is stored.</summary>
    public bool Store { get; init; } = true;

    /// <summary>The sampling temperature.</summary>
    public double Temperature { get; init; } = 1;

    /// <summary>The text settings, <c>{"format":{...}}</c>.</summary>
    public JsonElement Text { get => OrDefault(_text, ResponseDefaults.TextFormat); init => _text = value; }

    /// <summary>The tool choice as the request gave it (default <c>"auto"</c>).</summary>
    public JsonElement ToolChoice { get => OrDefault(_toolChoice, ResponseDefaults.AutoToolChoice); init => _toolChoice = value; }

    /// <summary>The tools as the request gave them.</summary>
    public IReadOnlyList<JsonElement> Tools { get; init; } = [];

    /// <summary>Alternatives per output token position.</summary>
    public int TopLogprobs { get; init; }

    /// <summary>The nucleus sampling mass.</summary>
    public double TopP { get; init; } = 1;

    /// <summary><c>auto</c> or <c>disabled</c>.</summary>
    public string Truncation { get; init; } = "disabled";

    /// <summary>Token usage; null until the response ends.</summary>
    public ResponseUsage? Usage { get; init; }

    /// <summary>The deprecated end-user identifier, or null.</summary>
    public string? User { get; init; }

    /// <summary>Up to 16 string pairs.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = ResponseDefaults.EmptyMetadata;

    /// <summary>The prompt cache key, or null.</summary>
    public string? PromptCacheKey { get; init; }

    // A response read back from JSON that lacks a member gets an undefined element, which cannot be written: such
    // members read as their defaults instead.
    private readonly JsonElement _reasoning = ResponseDefaults.NoReasoning;
    private readonly JsonElement _text = ResponseDefaults.TextFormat;
    private readonly JsonElement _toolChoice = ResponseDefaults.AutoToolChoice;

    private static JsonElement OrDefault(JsonElement value, JsonElement fallback) => value.ValueKind == JsonValueKind.Undefined ? fallback : value;
}

/// <summary>Default values of response members.</summary>
public static class ResponseDefaults
{
    /// <summary><c>{"effort":null,"summary":null}</c>.</summary>
    public static JsonElement NoReasoning { get; } = JsonElement.Parse("""{"effort":null,"summary":null}""");

    /// <summary><c>{"format":{"type":"text"}}</c>.</summary>
    public static JsonElement TextFormat { get; } = JsonElement.Parse("""{"format":{"type":"text"}}""");

    /// <summary><c>"auto"</c>.</summary>
    public static JsonElement AutoToolChoice { get; } = JsonElement.Parse("\"auto\"");

    /// <summary>No metadata.</summary>
    public static IReadOnlyDictionary<string, string> EmptyMetadata { get; } = new Dictionary<string, string>();
}

/// <summary><c>error</c> of a failed response.</summary>
public sealed record ResponseErrorInfo
{
    /// <summary>E.g. <c>server_error</c>.</summary>
    public required string Code { get; init; }

    /// <summary>What went wrong.</summary>
    public required string Message { get; init; }
}

/// <summary><c>incomplete_details</c>.</summary>
public sealed record IncompleteDetails
{
    /// <summary><c>max_output_tokens</c> or <c>content_filter</c>.</summary>
    public required string Reason { get; init; }
}

/// <summary><c>conversation</c> of a response: <c>{"id":"conv_..."}</c>.</summary>
public sealed record ConversationReference
{
    /// <summary>The conversation id.</summary>
    public required string Id { get; init; }
}

/// <summary>Token usage of a response (<c>ResponseUsage</c>).</summary>
public sealed record ResponseUsage
{
    /// <summary>Tokens in the input.</summary>
    public int InputTokens { get; init; }

    /// <summary>Breakdown of the input tokens.</summary>
    public InputTokensDetails InputTokensDetails { get; init; } = new();

    /// <summary>Tokens generated.</summary>
    public int OutputTokens { get; init; }

    /// <summary>Breakdown of the output tokens.</summary>
    public OutputTokensDetails OutputTokensDetails { get; init; } = new();

    /// <summary>Input plus output tokens.</summary>
    public int TotalTokens { get; init; }

    /// <summary>Usage from chat completion usage.</summary>
    public static ResponseUsage FromCompletion(CompletionUsage? usage) => usage is null
        ? new ResponseUsage()
        : new ResponseUsage
        {
            InputTokens = usage.PromptTokens,
            InputTokensDetails = new InputTokensDetails { CachedTokens = usage.PromptTokensDetails?.CachedTokens ?? 0 },
            OutputTokens = usage.CompletionTokens,
            OutputTokensDetails = new OutputTokensDetails { ReasoningTokens = usage.CompletionTokensDetails?.ReasoningTokens ?? 0 },
            TotalTokens = usage.PromptTokens + usage.CompletionTokens,
        };
}

/// <summary><c>input_tokens_details</c>.</summary>
public sealed record InputTokensDetails
{
    /// <summary>Input tokens served from a cache.</summary>
    public int CachedTokens { get; init; }

    /// <summary>Input tokens written to a cache.</summary>
    public int CacheWriteTokens { get; init; }
}

/// <summary><c>output_tokens_details</c>.</summary>
public sealed record OutputTokensDetails
{
    /// <summary>Tokens spent reasoning.</summary>
    public int ReasoningTokens { get; init; }
}

/// <summary>A <c>{"object":"list", ...}</c> page of items (input items, conversation items).</summary>
public sealed record ResponseItemList
{
    /// <summary>Always <c>list</c>.</summary>
    public string Object { get; init; } = "list";

    /// <summary>The items, as stored.</summary>
    public required IReadOnlyList<JsonElement> Data { get; init; }

    /// <summary>The first item's id, or null.</summary>
    public string? FirstId { get; init; }

    /// <summary>The last item's id, or null.</summary>
    public string? LastId { get; init; }

    /// <summary>Whether more items follow.</summary>
    public bool HasMore { get; init; }
}

/// <summary>The answer to a delete (<c>{"id","object","deleted":true}</c>).</summary>
public sealed record DeletedObject
{
    /// <summary>The id deleted.</summary>
    public required string Id { get; init; }

    /// <summary><c>response</c>, <c>conversation.deleted</c>, ...</summary>
    public required string Object { get; init; }

    /// <summary>Always true.</summary>
    public bool Deleted { get; init; } = true;
}
