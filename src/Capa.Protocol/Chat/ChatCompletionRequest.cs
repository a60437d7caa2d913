using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol;

/// <summary>
/// A validated <c>POST /v1/chat/completions</c> body (<c>CreateChatCompletionRequest</c>).
/// Produced by <see cref="ChatRequestReader"/>; <see cref="Raw"/> keeps the client's own JSON
/// so that a router can forward fields this type does not model.
/// </summary>
public sealed class ChatCompletionRequest
{
    /// <summary>The model id as the client sent it (may be an alias).</summary>
    public required string Model { get; init; }

    /// <summary>The conversation; at least one message.</summary>
    public required IReadOnlyList<ChatMessage> Messages { get; init; }

    /// <summary>Sampling temperature in [0, 2].</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Temperature { get; init; }

    /// <summary>Nucleus sampling mass in [0, 1].</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TopP { get; init; }

    /// <summary>Number of choices, 1 to 128.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? N { get; init; }

    /// <summary>Whether to answer with server-sent events.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Stream { get; init; }

    /// <summary>Streaming options; only allowed with <see cref="Stream"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ChatStreamOptions? StreamOptions { get; init; }

    /// <summary>Up to four stop sequences (a single string is read as a list of one).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Stop { get; init; }

    /// <summary>Deprecated upper bound on generated tokens (at least 1).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? MaxTokens { get; init; }

    /// <summary>Upper bound on generated tokens, including reasoning tokens (at least 1).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? MaxCompletionTokens { get; init; }

    /// <summary>Presence penalty in [-2, 2].</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? PresencePenalty { get; init; }

    /// <summary>Frequency penalty in [-2, 2].</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? FrequencyPenalty { get; init; }

    /// <summary>Bias in [-100, 100] added to the logits of the given token ids.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<int, double>? LogitBias { get; init; }

    /// <summary>Whether to return log probabilities of the output tokens.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Logprobs { get; init; }

    /// <summary>Alternatives per position, 0 to 20; requires <see cref="Logprobs"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? TopLogprobs { get; init; }

    /// <summary>Seed for reproducible sampling.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Seed { get; init; }

    /// <summary><c>text</c>, <c>json_object</c> or <c>json_schema</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ResponseFormat? ResponseFormat { get; init; }

    /// <summary>Tools the model may call.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ChatTool>? Tools { get; init; }

    /// <summary>Which tool, if any, must be called.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ToolChoice? ToolChoice { get; init; }

    /// <summary>Whether several tool calls may be made in one turn.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? ParallelToolCalls { get; init; }

    /// <summary>End-user identifier (deprecated in favour of <see cref="SafetyIdentifier"/>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? User { get; init; }

    /// <summary><c>store</c>: accepted, not acted on locally.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Store { get; init; }

    /// <summary>Up to 16 string pairs attached to the request.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Requested service tier (<c>auto</c>, <c>default</c>, <c>flex</c>, <c>scale</c>, <c>priority</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ServiceTier { get; init; }

    /// <summary>Reasoning effort for reasoning models.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ReasoningEffort { get; init; }

    /// <summary>Output modalities (<c>text</c>, <c>audio</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Modalities { get; init; }

    /// <summary>Response verbosity (<c>low</c>, <c>medium</c>, <c>high</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Verbosity { get; init; }

    /// <summary>Prompt cache bucketing key.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PromptCacheKey { get; init; }

    /// <summary>Stable end-user identifier, at most 64 characters.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SafetyIdentifier { get; init; }

    /// <summary><c>prediction</c> (predicted output), kept as sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Prediction { get; init; }

    /// <summary><c>audio</c> output parameters, kept as sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Audio { get; init; }

    /// <summary>Deprecated <c>function_call</c>, kept as sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? FunctionCall { get; init; }

    /// <summary>Deprecated <c>functions</c>, kept as sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Functions { get; init; }

    /// <summary><c>web_search_options</c>, kept as sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? WebSearchOptions { get; init; }

    /// <summary>
    /// The whole request body as the client sent it (a JSON object, detached from any pooled buffer).
    /// Default when the request was built in code rather than read.
    /// </summary>
    [JsonIgnore]
    public JsonElement Raw { get; init; }

    /// <summary>The token budget: <see cref="MaxCompletionTokens"/>, else <see cref="MaxTokens"/>, else null.</summary>
    [JsonIgnore]
    public int? EffectiveMaxTokens => MaxCompletionTokens ?? MaxTokens;

    /// <summary>True when streaming was asked for.</summary>
    [JsonIgnore]
    public bool IsStreaming => Stream == true;

    /// <summary>True when a final usage chunk was asked for (<c>stream_options.include_usage</c>).</summary>
    [JsonIgnore]
    public bool IncludeUsage => Stream == true && StreamOptions?.IncludeUsage == true;

    /// <summary>
    /// Writes the client's own JSON (<see cref="Raw"/>) with <c>model</c> replaced by <paramref name="model"/>,
    /// every other member passed through unchanged and in order. This is what an upstream router forwards.
    /// When the request was built in code (no <see cref="Raw"/>), the typed members are written instead.
    /// </summary>
    public void WriteForwardedJson(Utf8JsonWriter writer, string model)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(model);
        if (Raw.ValueKind != JsonValueKind.Object)
        {
            var copy = JsonSerializer.SerializeToElement(this, CapaJsonContext.Default.ChatCompletionRequest);
            WriteReplacingModel(writer, copy, model);
            return;
        }

        WriteReplacingModel(writer, Raw, model);
    }

    /// <summary>The forwarded JSON (see <see cref="WriteForwardedJson(Utf8JsonWriter, string)"/>) as UTF-8 bytes.</summary>
    public byte[] ToForwardedJson(string model)
    {
        var buffer = new ArrayBufferWriter<byte>(Raw.ValueKind == JsonValueKind.Object ? 1024 : 256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteForwardedJson(writer, model);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteReplacingModel(Utf8JsonWriter writer, JsonElement body, string model)
    {
        // Members are copied as their original JSON text: nothing is decoded and re-encoded, so the upstream
        // gets the client's exact numbers and escapes (even escapes that do not decode, such as a lone "\ud800").
        var raw = new ArrayBufferWriter<byte>(JsonMarshal.GetRawUtf8Value(body).Length + model.Length + 16);
        raw.Write("{\"model\":"u8);
        using (var modelWriter = new Utf8JsonWriter(raw))
        {
            modelWriter.WriteStringValue(model);
        }

        foreach (var property in body.EnumerateObject())
        {
            if (property.NameEquals("model"u8))
            {
                continue;
            }

            raw.Write(",\""u8);
            raw.Write(JsonMarshal.GetRawUtf8PropertyName(property));
            raw.Write("\":"u8);
            raw.Write(JsonMarshal.GetRawUtf8Value(property.Value));
        }

        raw.Write("}"u8);
        writer.WriteRawValue(raw.WrittenSpan, skipInputValidation: true);
    }
}

/// <summary><c>stream_options</c>.</summary>
public sealed class ChatStreamOptions
{
    /// <summary>Send a final chunk with usage and empty choices before <c>[DONE]</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? IncludeUsage { get; init; }

    /// <summary>Accepted for compatibility; Capa does not add obfuscation padding.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? IncludeObfuscation { get; init; }
}

/// <summary>Well-known <c>response_format.type</c> values.</summary>
public static class ResponseFormatTypes
{
    /// <summary><c>text</c>: free text.</summary>
    public const string Text = "text";

    /// <summary><c>json_object</c>: any valid JSON object (JSON mode).</summary>
    public const string JsonObject = "json_object";

    /// <summary><c>json_schema</c>: JSON matching a schema (structured outputs).</summary>
    public const string JsonSchema = "json_schema";
}

/// <summary><c>response_format</c>.</summary>
public sealed class ResponseFormat
{
    /// <summary>One of <see cref="ResponseFormatTypes"/>.</summary>
    public required string Type { get; init; }

    /// <summary>The schema, for <c>json_schema</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ResponseJsonSchema? JsonSchema { get; init; }
}

/// <summary>The <c>json_schema</c> object of a <c>json_schema</c> response format.</summary>
public sealed class ResponseJsonSchema
{
    /// <summary>Name matching <c>^[a-zA-Z0-9_-]{1,64}$</c>.</summary>
    public required string Name { get; init; }

    /// <summary>What the format is for.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Description { get; init; }

    /// <summary>The JSON schema, kept as sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Schema { get; init; }

    /// <summary>Whether the output must follow the schema exactly.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Strict { get; init; }
}
