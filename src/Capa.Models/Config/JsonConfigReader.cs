using System.Text.Json;

namespace Capa.Models.Config;

/// <summary>
/// Lenient readers for the loosely typed Hugging Face JSON files of a model folder (configs, processor and generation
/// settings), shared by every modality's loader: a field of the wrong kind reads as absent.
/// </summary>
public static class JsonConfigReader
{
    /// <summary>The field as a 32-bit integer, or null when absent or not one.</summary>
    public static int? Int(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    /// <summary>The field as a number, or null when absent or not one.</summary>
    public static double? Double(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    /// <summary>The field as a boolean, or null when absent or not one.</summary>
    public static bool? Bool(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    /// <summary>The field as a string, or null when absent or not one.</summary>
    public static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>Reads a token id field that the configs write either as one number or as a list of numbers.</summary>
    public static IReadOnlyList<int> IntOrList(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v))
        {
            return [];
        }

        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var one))
        {
            return [one];
        }

        if (v.ValueKind == JsonValueKind.Array)
        {
            var list = new List<int>();
            foreach (var item in v.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var id))
                {
                    list.Add(id);
                }
            }

            return list;
        }

        return [];
    }

    /// <summary>Parses a JSON file (trailing commas and comments allowed); invalid JSON is a <see cref="ModelFolderException"/> naming the file.</summary>
    public static JsonDocument ParseFile(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new ModelFolderException($"'{path}' is not valid JSON: {ex.Message}", ex);
        }
    }
}
