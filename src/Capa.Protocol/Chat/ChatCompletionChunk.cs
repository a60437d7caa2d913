using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol;

/// <summary>
/// One server-sent chunk of a streamed completion (<c>CreateChatCompletionStreamResponse</c>,
/// object <c>chat.completion.chunk</c>). Every chunk of a stream carries the same id and created time.
/// </summary>
public sealed class ChatCompletionChunk
{
    /// <summary>The <c>object</c> value of this type.</summary>
    public const string ObjectType = "chat.completion.chunk";

    private CompletionUsage? usage;
    private bool includeUsageMember;

    /// <summary>The stream's id, <c>chatcmpl-...</c>, the same on every chunk.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>chat.completion.chunk</c>.</summary>
    public string Object { get; init; } = ObjectType;

    /// <summary>Unix time in seconds, the same on every chunk.</summary>
    public required long Created { get; init; }

    /// <summary>The model that answers.</summary>
    public required string Model { get; init; }

    /// <summary>The service tier used; omitted when null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ServiceTier { get; init; }

    /// <summary>Fingerprint of the backend configuration; written as null when unknown.</summary>
    public string? SystemFingerprint { get; init; }

    /// <summary>The choices' deltas; empty in the final usage chunk.</summary>
    public required IReadOnlyList<ChatChunkChoice> Choices { get; init; }

    /// <summary>
    /// Usage: set on the final chunk (with empty <see cref="Choices"/>) when <c>include_usage</c> was asked for.
    /// </summary>
    [JsonIgnore]
    public CompletionUsage? Usage
    {
        get => usage;
        init => usage = value;
    }

    /// <summary>
    /// Whether the <c>usage</c> member is written when <see cref="Usage"/> is null. OpenAI writes
    /// <c>"usage": null</c> on every chunk of a stream that asked for <c>include_usage</c>, and omits
    /// the member otherwise. Reading a chunk sets this when the member was present.
    /// </summary>
    [JsonIgnore]
    public bool IncludeUsageMember
    {
        get => includeUsageMember;
        init => includeUsageMember = value;
    }

    // The usage member has three wire states (absent, null, object). Writing: no value = absent, a Null element
    // = null, an object = the usage. Reading: the setter runs only when the member is present (a plain setter,
    // unlike init, is not called with a default for absent members), and gets null for a JSON null.
    [JsonInclude]
    [JsonPropertyName("usage")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    internal JsonElement? UsageJson
    {
        get => Usage is not null
            ? JsonSerializer.SerializeToElement(Usage, CapaJsonContext.Default.CompletionUsage)
            : IncludeUsageMember ? NullElement : null;
        set
        {
            includeUsageMember = true;
            usage = value is { ValueKind: JsonValueKind.Object } element
                ? element.Deserialize(CapaJsonContext.Default.CompletionUsage)
                : null;
        }
    }

    private static readonly JsonElement NullElement = JsonElement.Parse("null"u8);
}

/// <summary>One choice's delta in a <see cref="ChatCompletionChunk"/>.</summary>
public sealed class ChatChunkChoice
{
    /// <summary>Position of the choice.</summary>
    public required int Index { get; init; }

    /// <summary>What this chunk adds to the choice's message.</summary>
    public required ChatDelta Delta { get; init; }

    /// <summary>Log probabilities of the tokens in this delta; written as null when not asked for.</summary>
    public ChatChoiceLogprobs? Logprobs { get; init; }

    /// <summary>Null (written as null) until the choice's last chunk.</summary>
    public string? FinishReason { get; init; }
}

/// <summary>
/// A message fragment (<c>ChatCompletionStreamResponseDelta</c>). Unset members are omitted, except that with
/// <see cref="ExplicitNulls"/> an unset <c>content</c> and <c>refusal</c> are written as null, as OpenAI does in a
/// choice's first chunk: <c>{"role":"assistant","content":"","refusal":null}</c>.
/// </summary>
[JsonConverter(typeof(ChatDeltaConverter))]
public sealed class ChatDelta
{
    /// <summary>The role, in a choice's first chunk only.</summary>
    public string? Role { get; init; }

    /// <summary>The next piece of text.</summary>
    public string? Content { get; init; }

    /// <summary>The next piece of a refusal.</summary>
    public string? Refusal { get; init; }

    /// <summary>Tool call fragments.</summary>
    public IReadOnlyList<ChatToolCallDelta>? ToolCalls { get; init; }

    /// <summary>Deprecated function call fragment.</summary>
    public ChatFunctionCallDelta? FunctionCall { get; init; }

    /// <summary>Write an unset <see cref="Content"/> and <see cref="Refusal"/> as null instead of omitting them.</summary>
    public bool ExplicitNulls { get; init; }

    /// <summary>
    /// The first delta of an assistant choice as OpenAI sends it: role, empty content, null refusal
    /// (or, when the choice starts with tool calls, null content and the calls).
    /// </summary>
    public static ChatDelta AssistantStart(IReadOnlyList<ChatToolCallDelta>? toolCalls = null) => new()
    {
        Role = "assistant",
        Content = toolCalls is null ? string.Empty : null,
        ToolCalls = toolCalls,
        ExplicitNulls = true,
    };
}
