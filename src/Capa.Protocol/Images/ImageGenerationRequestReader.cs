using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Unicode;
using static Capa.Protocol.JsonRules;

namespace Capa.Protocol.Images;

/// <summary>
/// Reads and validates a <c>POST /v1/images/generations</c> body with OpenAI's per-model rules and errors: every byte
/// sequence yields an <see cref="ImageGenerationRequest"/> or an <see cref="ApiError"/>, never an exception.
/// </summary>
public static class ImageGenerationRequestReader
{
    /// <summary>Largest body accepted: a 32000-character prompt, escaped, with room to spare.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>Reads and validates a body.</summary>
    public static bool TryRead(ReadOnlySpan<byte> utf8Body, [NotNullWhen(true)] out ImageGenerationRequest? request, [NotNullWhen(false)] out ApiError? error)
    {
        request = null;
        try
        {
            if (utf8Body.Length > MaxBodyBytes)
            {
                error = ApiError.PayloadTooLarge(MaxBodyBytes);
                return false;
            }

            if (utf8Body.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            {
                utf8Body = utf8Body[3..];
            }

            if (!Utf8.IsValid(utf8Body))
            {
                error = ApiError.InvalidJson("The body is not valid UTF-8.");
                return false;
            }

            JsonElement root;
            var reader = new Utf8JsonReader(utf8Body, new JsonReaderOptions { MaxDepth = 16 });
            try
            {
                root = JsonElement.ParseValue(ref reader);
                if (reader.Read())
                {
                    error = ApiError.InvalidJson("Unexpected content after the JSON value.");
                    return false;
                }
            }
            catch (JsonException)
            {
                error = ApiError.InvalidJson();
                return false;
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                error = ApiError.InvalidRequest($"Invalid request body: expected a JSON object, but got {Describe(root)} instead.", null, "invalid_type");
                return false;
            }

            request = ImageRequestRules.Apply(ReadFields(root), requirePrompt: true);
            error = null;
            return true;
        }
        catch (RequestRejectedException rejected)
        {
            error = rejected.Error;
            return false;
        }
        catch (InvalidOperationException)
        {
            error = ApiError.InvalidJson("A string contains an escape sequence that is not valid Unicode.");
            return false;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A defect in validation must not take the server down or leak details.
            error = ApiError.ServerError();
            return false;
        }
    }

    /// <summary>The model a body names (or implies), when it is a JSON object; null otherwise. Used to route before validating.</summary>
    public static string? PeekModel(ReadOnlySpan<byte> utf8Body)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8Body, new JsonReaderOptions { MaxDepth = 16 });
            JsonElement root = JsonElement.ParseValue(ref reader);
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            if (root.TryGetProperty("model", out var model))
            {
                return model.ValueKind == JsonValueKind.String ? model.GetString() : null;
            }

            string[] gptOnly = ["output_format", "output_compression", "background", "moderation", "stream", "partial_images"];
            return gptOnly.Any(p => root.TryGetProperty(p, out var v) && v.ValueKind != JsonValueKind.Null)
                ? ImageModels.DefaultGptImageModel
                : ImageModels.DefaultModel;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static ImageRequestRules.Fields ReadFields(JsonElement root)
    {
        var fields = new ImageRequestRules.Fields();
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            var name = property.Name;
            if (name == "prompt")
            {
                fields.PromptPresent = true;
                fields.Prompt = value.ValueKind == JsonValueKind.Null ? throw TypeError(name, "a string", value) : ReadString(value, name, 200_000);
                continue;
            }

            if (value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            switch (name)
            {
                case "model":
                    fields.Model = ReadString(value, name, 256);
                    break;
                case "n":
                    fields.N = (int)ReadInteger(value, name, 1, 10);
                    break;
                case "size":
                    fields.Size = ReadString(value, name, 64);
                    break;
                case "quality":
                    fields.Quality = ReadString(value, name, 64);
                    break;
                case "style":
                    fields.Style = ReadEnum(value, name, ImageRequestRules.Styles);
                    break;
                case "response_format":
                    fields.ResponseFormat = ReadEnum(value, name, ImageRequestRules.ResponseFormats);
                    break;
                case "output_format":
                    fields.OutputFormat = ReadEnum(value, name, ImageRequestRules.OutputFormats);
                    break;
                case "output_compression":
                    fields.OutputCompression = (int)ReadInteger(value, name, 0, 100);
                    break;
                case "background":
                    fields.Background = ReadEnum(value, name, ImageRequestRules.Backgrounds);
                    break;
                case "moderation":
                    fields.Moderation = ReadEnum(value, name, ImageRequestRules.Moderations);
                    break;
                case "stream":
                    fields.Stream = ReadBool(value, name);
                    break;
                case "partial_images":
                    fields.PartialImages = (int)ReadInteger(value, name, 0, 3);
                    break;
                case "user":
                    fields.User = ReadString(value, name, 256);
                    break;
                case "seed":
                    fields.Seed = (ulong)ReadInteger(value, name, 0, long.MaxValue);
                    break;
                case "negative_prompt":
                    fields.NegativePrompt = ReadString(value, name, ImageModels.GptImageMaxPrompt);
                    break;
                default:
                    // Unknown members are ignored, as for chat.
                    break;
            }
        }

        return fields;
    }

    internal static string ReadEnum(JsonElement value, string name, IReadOnlyList<string> supported)
    {
        string text = ReadString(value, name, 256);
        return supported.Contains(text, StringComparer.Ordinal) ? text : throw InvalidValue(name, text, supported);
    }
}
