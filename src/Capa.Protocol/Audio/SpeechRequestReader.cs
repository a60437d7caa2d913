using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Unicode;
using static Capa.Protocol.JsonRules;

namespace Capa.Protocol.Audio;

/// <summary>
/// Reads and validates a <c>POST /v1/audio/speech</c> body with OpenAI's errors: every byte sequence yields a
/// <see cref="SpeechRequest"/> or an <see cref="ApiError"/>, never an exception. Whether a voice name exists is not
/// decided here (local voices are the server's): <see cref="SpeechModels.UnknownVoice"/> words that error.
/// </summary>
public static class SpeechRequestReader
{
    /// <summary>Longest <c>input</c> and <c>instructions</c>, in characters (OpenAI's limit).</summary>
    public const int MaxInputLength = 4096;

    /// <summary>Largest body accepted: 4096 characters of input and of instructions, escaped, with room to spare.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>Lowest <c>speed</c>.</summary>
    public const double MinSpeed = 0.25;

    /// <summary>Highest <c>speed</c>.</summary>
    public const double MaxSpeed = 4.0;

    private static readonly ChatRequestLimits Limits = ChatRequestLimits.Default with { MaxBodyBytes = MaxBodyBytes, MaxDepth = 16 };

    /// <summary>Reads and validates a body.</summary>
    public static bool TryRead(ReadOnlySpan<byte> utf8Body, [NotNullWhen(true)] out SpeechRequest? request, [NotNullWhen(false)] out ApiError? error)
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
            var reader = new Utf8JsonReader(utf8Body, new JsonReaderOptions { MaxDepth = Limits.MaxDepth });
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

            request = Parse(root);
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

    private static SpeechRequest Parse(JsonElement root)
    {
        string? model = null, input = null, instructions = null, responseFormat = null, streamFormat = null;
        SpeechVoice? voice = null;
        double? speed = null;
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            var name = property.Name;
            if (value.ValueKind == JsonValueKind.Null && name is not ("model" or "input" or "voice"))
            {
                continue;
            }

            switch (name)
            {
                case "model":
                    model = ReadString(value, name, 256);
                    break;
                case "input":
                    input = ReadString(value, name, MaxInputLength);
                    break;
                case "instructions":
                    instructions = ReadString(value, name, MaxInputLength);
                    break;
                case "voice":
                    voice = ParseVoice(value);
                    break;
                case "response_format":
                    responseFormat = ReadEnum(value, name, SpeechModels.ResponseFormats);
                    break;
                case "speed":
                    speed = ReadNumber(value, name, MinSpeed, MaxSpeed);
                    break;
                case "stream_format":
                    streamFormat = ReadEnum(value, name, SpeechStreamFormats.All);
                    break;
                default:
                    // Unknown members are ignored, as for chat.
                    break;
            }
        }

        model = Required(root, model, "model", "a string");
        if (model.Length == 0)
        {
            throw Reject("Invalid 'model': empty string. Expected a model id.", "model", "invalid_value");
        }

        input = Required(root, input, "input", "a string");
        if (input.Length == 0)
        {
            throw Reject(
                "Invalid 'input': empty string. Expected a string with minimum length 1, but got an empty string instead.",
                "input",
                "empty_string");
        }

        voice = Required(root, voice, "voice", "one of a string or an object");
        if (instructions is not null && SpeechModels.IsClassic(model))
        {
            throw Reject("Unsupported parameter: 'instructions' is not supported with this model.", "instructions", "unsupported_parameter");
        }

        return new SpeechRequest
        {
            Model = model,
            Input = input,
            Voice = voice,
            Instructions = instructions,
            ResponseFormat = responseFormat ?? "mp3",
            Speed = speed ?? 1.0,
            StreamFormat = streamFormat ?? SpeechStreamFormats.Audio,
        };
    }

    private static T Required<T>(JsonElement root, T? value, string name, string expected)
        where T : class
    {
        if (value is not null)
        {
            return value;
        }

        throw root.TryGetProperty(name, out var given) && given.ValueKind == JsonValueKind.Null
            ? TypeError(name, expected, given)
            : Missing(name);
    }

    private static SpeechVoice ParseVoice(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                var name = ReadString(value, "voice", 256);
                if (name.Length == 0)
                {
                    throw Reject("Invalid 'voice': empty string. Expected a string with minimum length 1, but got an empty string instead.", "voice", "empty_string");
                }

                return new SpeechVoice { Name = name };
            case JsonValueKind.Object:
                string? id = null;
                foreach (var member in value.EnumerateObject())
                {
                    if (member.Name == "id")
                    {
                        id = ReadString(member.Value, "voice.id", 256);
                    }
                    else
                    {
                        throw Reject($"Unrecognized request argument supplied: voice.{Shorten(member.Name)}", "voice." + Shorten(member.Name), "unknown_parameter");
                    }
                }

                if (id is null)
                {
                    throw Missing("voice.id");
                }

                if (id.Length == 0)
                {
                    throw Reject("Invalid 'voice.id': empty string. Expected a string with minimum length 1, but got an empty string instead.", "voice.id", "empty_string");
                }

                return new SpeechVoice { CustomId = id };
            default:
                throw TypeError("voice", "one of a string or an object", value);
        }
    }

    private static string ReadEnum(JsonElement value, string name, IReadOnlyList<string> supported)
    {
        var text = ReadString(value, name, 256);
        return supported.Contains(text) ? text : throw InvalidValue(name, text, supported);
    }
}
