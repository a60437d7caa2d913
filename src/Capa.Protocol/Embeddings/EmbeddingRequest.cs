using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol.Embeddings;

/// <summary>A validated <c>POST /v1/embeddings</c> request.</summary>
public sealed record EmbeddingRequest
{
    /// <summary>The model id as sent.</summary>
    public required string Model { get; init; }

    /// <summary>Texts to embed (when the input was strings), else null.</summary>
    public IReadOnlyList<string>? Texts { get; init; }

    /// <summary>Token sequences to embed (when the input was token arrays), else null.</summary>
    public IReadOnlyList<int[]>? TokenIds { get; init; }

    /// <summary>Return base64 of little-endian float32 instead of number arrays.</summary>
    public bool Base64 { get; init; }

    /// <summary>Truncate vectors to this many dimensions (then renormalise), or null for the model's own.</summary>
    public int? Dimensions { get; init; }

    /// <summary>How many inputs.</summary>
    [JsonIgnore]
    public int Count => Texts?.Count ?? TokenIds?.Count ?? 0;
}

/// <summary>Reads and validates an embeddings request with OpenAI's errors.</summary>
public static class EmbeddingRequestReader
{
    /// <summary>The most inputs in one request.</summary>
    public const int MaxInputs = 2048;

    /// <summary>Reads a parsed JSON body.</summary>
    public static bool TryRead(JsonElement root, [NotNullWhen(true)] out EmbeddingRequest? request, [NotNullWhen(false)] out ApiError? error)
    {
        request = null;
        if (!root.TryGetProperty("model", out var modelElement) || modelElement.ValueKind == JsonValueKind.Null)
        {
            error = ApiError.InvalidRequest("Missing required parameter: 'model'.", "model", "missing_required_parameter");
            return false;
        }

        if (modelElement.ValueKind != JsonValueKind.String || modelElement.GetString() is not { Length: > 0 } model)
        {
            error = ApiError.InvalidRequest("Invalid type for 'model': expected a non-empty string.", "model", "invalid_type");
            return false;
        }

        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
        {
            error = ApiError.InvalidRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter");
            return false;
        }

        List<string>? texts = null;
        List<int[]>? ids = null;
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                texts = [input.GetString()!];
                break;
            case JsonValueKind.Array:
                var count = input.GetArrayLength();
                if (count is 0 or > MaxInputs)
                {
                    error = ApiError.InvalidRequest(
                        string.Create(CultureInfo.InvariantCulture, $"Invalid 'input': an array must have between 1 and {MaxInputs} items, got {count}."),
                        "input", count == 0 ? "empty_array" : "array_above_max_length");
                    return false;
                }

                var first = input[0];
                if (first.ValueKind == JsonValueKind.String)
                {
                    texts = new List<string>(count);
                    foreach (var item in input.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.String)
                        {
                            error = InvalidInput();
                            return false;
                        }

                        texts.Add(item.GetString()!);
                    }
                }
                else if (first.ValueKind == JsonValueKind.Number)
                {
                    if (!TryReadIds(input, out var single))
                    {
                        error = InvalidInput();
                        return false;
                    }

                    ids = [single];
                }
                else if (first.ValueKind == JsonValueKind.Array)
                {
                    ids = new List<int[]>(count);
                    foreach (var item in input.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.Array || item.GetArrayLength() == 0 || !TryReadIds(item, out var sequence))
                        {
                            error = InvalidInput();
                            return false;
                        }

                        ids.Add(sequence);
                    }
                }
                else
                {
                    error = InvalidInput();
                    return false;
                }

                break;
            default:
                error = InvalidInput();
                return false;
        }

        if (texts is not null && texts.Any(t => t.Length == 0))
        {
            error = ApiError.InvalidRequest("'$.input' is invalid: an input cannot be an empty string.", "input", "invalid_value");
            return false;
        }

        var base64 = false;
        if (root.TryGetProperty("encoding_format", out var format) && format.ValueKind != JsonValueKind.Null)
        {
            if (format.ValueKind != JsonValueKind.String || format.GetString() is not ("float" or "base64"))
            {
                error = ApiError.InvalidRequest(
                    $"Invalid value: '{(format.ValueKind == JsonValueKind.String ? format.GetString() : format.GetRawText())}'. Supported values are: 'float' and 'base64'.",
                    "encoding_format", "invalid_value");
                return false;
            }

            base64 = format.GetString() == "base64";
        }

        int? dimensions = null;
        if (root.TryGetProperty("dimensions", out var dims) && dims.ValueKind != JsonValueKind.Null)
        {
            if (dims.ValueKind != JsonValueKind.Number || !dims.TryGetInt32(out var d))
            {
                error = ApiError.InvalidRequest("Invalid type for 'dimensions': expected an integer.", "dimensions", "invalid_type");
                return false;
            }

            if (d < 1)
            {
                error = ApiError.InvalidRequest(string.Create(CultureInfo.InvariantCulture, $"Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got {d} instead."), "dimensions", "integer_below_min_value");
                return false;
            }

            dimensions = d;
        }

        if (root.TryGetProperty("user", out var user) && user.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
        {
            error = ApiError.InvalidRequest("Invalid type for 'user': expected a string.", "user", "invalid_type");
            return false;
        }

        request = new EmbeddingRequest { Model = model, Texts = texts, TokenIds = ids, Base64 = base64, Dimensions = dimensions };
        error = null;
        return true;
    }

    /// <summary>The 400 for <c>dimensions</c> above what the model gives.</summary>
    public static ApiError DimensionsTooLarge(int requested, int available, string model) => ApiError.InvalidRequest(
        string.Create(CultureInfo.InvariantCulture, $"This model ({model}) has {available} dimensions; 'dimensions' must be at most {available}, got {requested}."),
        "dimensions", "invalid_value");

    /// <summary>
    /// The 400 for an input over the model's context; <paramref name="atLeast"/> when <paramref name="tokens"/> is only
    /// how far tokenizing went before it proved the input too long.
    /// </summary>
    public static ApiError InputTooLong(int index, int tokens, int max, bool atLeast = false) => ApiError.InvalidRequest(
        string.Create(CultureInfo.InvariantCulture, $"This model's maximum context length is {max} tokens, however you requested {(atLeast ? "at least " : string.Empty)}{tokens} tokens in input {index}. Please reduce your prompt."),
        "input", "context_length_exceeded");

    /// <summary>The 400 for a token id the model does not have.</summary>
    public static ApiError InvalidTokenId(int id, int vocabSize) => ApiError.InvalidRequest(
        string.Create(CultureInfo.InvariantCulture, $"Invalid token id {id} in 'input': the model's ids are 0 to {vocabSize - 1}."),
        "input", "invalid_value");

    private static bool TryReadIds(JsonElement array, out int[] ids)
    {
        ids = new int[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var id) || id < 0)
            {
                return false;
            }

            ids[i++] = id;
        }

        return true;
    }

    private static ApiError InvalidInput() => ApiError.InvalidRequest(
        "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", "input", "invalid_type");
}
