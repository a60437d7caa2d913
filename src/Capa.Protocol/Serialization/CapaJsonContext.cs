using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol;

/// <summary>
/// Source-generated JSON metadata for every wire type, with the spec's snake_case names.
/// Use <c>CapaJsonContext.Default.ChatCompletionResponse</c> etc. with <see cref="JsonSerializer"/>.
/// Requests are read with <see cref="ChatRequestReader"/>, which validates; this context only writes them
/// (and reads them back in tests).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    MaxDepth = 64,
    WriteIndented = false)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ModelInfo))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(CompletionUsage))]
[JsonSerializable(typeof(ChatMessage))]
[JsonSerializable(typeof(ChatContentPart))]
[JsonSerializable(typeof(ChatTool))]
[JsonSerializable(typeof(ChatToolCall))]
[JsonSerializable(typeof(ToolChoice))]
[JsonSerializable(typeof(ChatDelta))]
[JsonSerializable(typeof(IReadOnlyList<ChatToolCallDelta>))]
[JsonSerializable(typeof(ChatFunctionCallDelta))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class CapaJsonContext : JsonSerializerContext;
