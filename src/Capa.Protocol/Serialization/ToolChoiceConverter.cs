using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol;

/// <summary>Writes <see cref="ToolChoice"/> as <c>"none"|"auto"|"required"</c> or its object form, and reads it back.</summary>
internal sealed class ToolChoiceConverter : JsonConverter<ToolChoice>
{
    public override ToolChoice? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString() switch
            {
                "none" => ToolChoice.None,
                "auto" => ToolChoice.Auto,
                "required" => ToolChoice.Required,
                var other => throw new JsonException($"Unknown tool_choice '{other}'."),
            };
        }

        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type"u8, out var type))
        {
            throw new JsonException("tool_choice must be a string or an object with a type.");
        }

        return (type.ValueKind == JsonValueKind.String ? type.GetString() : null) switch
        {
            "function" => new ToolChoice { Mode = ToolChoiceMode.Function, Name = NameOf(root, "function"u8) },
            "custom" => new ToolChoice { Mode = ToolChoiceMode.Custom, Name = NameOf(root, "custom"u8) },
            "allowed_tools" when root.TryGetProperty("allowed_tools"u8, out var allowed) && allowed.ValueKind == JsonValueKind.Object =>
                new ToolChoice { Mode = ToolChoiceMode.AllowedTools, AllowedTools = allowed.Clone() },
            var other => throw new JsonException($"Unknown or incomplete tool_choice of type '{other}'."),
        };
    }

    private static string NameOf(JsonElement root, ReadOnlySpan<byte> member) =>
        root.TryGetProperty(member, out var target)
        && target.ValueKind == JsonValueKind.Object
        && target.TryGetProperty("name"u8, out var name)
        && name.ValueKind == JsonValueKind.String
            ? name.GetString()!
            : throw new JsonException("A named tool_choice needs a name.");

    public override void Write(Utf8JsonWriter writer, ToolChoice value, JsonSerializerOptions options)
    {
        switch (value.Mode)
        {
            case ToolChoiceMode.None:
                writer.WriteStringValue("none"u8);
                break;
            case ToolChoiceMode.Auto:
                writer.WriteStringValue("auto"u8);
                break;
            case ToolChoiceMode.Required:
                writer.WriteStringValue("required"u8);
                break;
            case ToolChoiceMode.Function:
            case ToolChoiceMode.Custom:
                var kind = value.Mode == ToolChoiceMode.Function ? "function"u8 : "custom"u8;
                writer.WriteStartObject();
                writer.WriteString("type"u8, kind);
                writer.WriteStartObject(kind);
                writer.WriteString("name"u8, value.Name);
                writer.WriteEndObject();
                writer.WriteEndObject();
                break;
            case ToolChoiceMode.AllowedTools:
                writer.WriteStartObject();
                writer.WriteString("type"u8, "allowed_tools"u8);
                writer.WritePropertyName("allowed_tools"u8);
                if (value.AllowedTools is { } allowed)
                {
                    allowed.WriteTo(writer);
                }
                else
                {
                    writer.WriteNullValue();
                }

                writer.WriteEndObject();
                break;
            default:
                throw new JsonException($"Unknown tool choice mode {value.Mode}.");
        }
    }
}
