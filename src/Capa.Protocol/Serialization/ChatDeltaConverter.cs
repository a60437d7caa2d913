using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Capa.Protocol;

/// <summary>
/// Writes <see cref="ChatDelta"/> by hand: its members are omitted or null depending on <see cref="ChatDelta.ExplicitNulls"/>,
/// which attributes cannot express, and it is written once per streamed token, so it avoids any allocation.
/// </summary>
internal sealed class ChatDeltaConverter : JsonConverter<ChatDelta>
{
    public override ChatDelta? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A delta must be an object.");
        }

        string? role = null, content = null, refusal = null;
        IReadOnlyList<ChatToolCallDelta>? toolCalls = null;
        ChatFunctionCallDelta? functionCall = null;
        var explicitNulls = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            var isNull = reader.TokenType == JsonTokenType.Null;
            switch (name)
            {
                case "role":
                    role = StringOrNull(ref reader);
                    break;
                case "content":
                    content = StringOrNull(ref reader);
                    explicitNulls |= isNull;
                    break;
                case "refusal":
                    refusal = StringOrNull(ref reader);
                    explicitNulls |= isNull;
                    break;
                case "tool_calls":
                    toolCalls = isNull ? null : JsonSerializer.Deserialize(ref reader, Info<IReadOnlyList<ChatToolCallDelta>>(options));
                    break;
                case "function_call":
                    functionCall = isNull ? null : JsonSerializer.Deserialize(ref reader, Info<ChatFunctionCallDelta>(options));
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return new ChatDelta
        {
            Role = role,
            Content = content,
            Refusal = refusal,
            ToolCalls = toolCalls,
            FunctionCall = functionCall,
            ExplicitNulls = explicitNulls,
        };
    }

    public override void Write(Utf8JsonWriter writer, ChatDelta value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        if (value.Role is not null)
        {
            writer.WriteString("role"u8, value.Role);
        }

        if (value.Content is not null)
        {
            writer.WriteString("content"u8, value.Content);
        }
        else if (value.ExplicitNulls)
        {
            writer.WriteNull("content"u8);
        }

        if (value.ToolCalls is not null)
        {
            writer.WritePropertyName("tool_calls"u8);
            JsonSerializer.Serialize(writer, value.ToolCalls, Info<IReadOnlyList<ChatToolCallDelta>>(options));
        }

        if (value.FunctionCall is not null)
        {
            writer.WritePropertyName("function_call"u8);
            JsonSerializer.Serialize(writer, value.FunctionCall, Info<ChatFunctionCallDelta>(options));
        }

        if (value.Refusal is not null)
        {
            writer.WriteString("refusal"u8, value.Refusal);
        }
        else if (value.ExplicitNulls)
        {
            writer.WriteNull("refusal"u8);
        }

        writer.WriteEndObject();
    }

    private static string? StringOrNull(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => reader.GetString(),
        _ => throw new JsonException("Delta members role, content and refusal must be strings or null."),
    };

    private static JsonTypeInfo<T> Info<T>(JsonSerializerOptions options) => (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
}
