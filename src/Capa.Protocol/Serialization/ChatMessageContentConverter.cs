using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol;

/// <summary>Writes <see cref="ChatMessageContent"/> as a string or an array of parts, and reads either back.</summary>
internal sealed class ChatMessageContentConverter : JsonConverter<ChatMessageContent>
{
    public override ChatMessageContent? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return ChatMessageContent.FromText(reader.GetString()!);
            case JsonTokenType.StartArray:
                var parts = new List<ChatContentPart>();
                var partInfo = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<ChatContentPart>)options.GetTypeInfo(typeof(ChatContentPart));
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    parts.Add(JsonSerializer.Deserialize(ref reader, partInfo) ?? throw new JsonException("A content part cannot be null."));
                }

                return ChatMessageContent.FromParts(parts);
            default:
                throw new JsonException("Message content must be a string or an array of parts.");
        }
    }

    public override void Write(Utf8JsonWriter writer, ChatMessageContent value, JsonSerializerOptions options)
    {
        if (value.Text is not null)
        {
            writer.WriteStringValue(value.Text);
            return;
        }

        var partInfo = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<ChatContentPart>)options.GetTypeInfo(typeof(ChatContentPart));
        writer.WriteStartArray();
        foreach (var part in value.Parts!)
        {
            JsonSerializer.Serialize(writer, part, partInfo);
        }

        writer.WriteEndArray();
    }
}
