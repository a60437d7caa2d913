using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

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
public sealed partial class CapaJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The encoder for everything Capa writes on the wire: non-ASCII text (Chinese, emoji) is written as UTF-8, as
    /// OpenAI writes it, rather than as <c>\uXXXX</c> escapes. Responses are JSON, never embedded in HTML.
    /// </summary>
    public static JavaScriptEncoder WireEncoder => JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>Serializes <paramref name="value"/> to UTF-8 JSON with <see cref="WireEncoder"/>.</summary>
    public static byte[] ToWireBytes<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = WireEncoder, SkipValidation = true }))
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
