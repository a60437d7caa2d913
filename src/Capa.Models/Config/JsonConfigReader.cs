using System.Text.Json;

namespace Capa.Models.Config;

/// <summary>Lenient readers for the loosely typed Hugging Face JSON configuration files.</summary>
internal static class JsonConfigReader
{
    public static int? Int(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    public static double? Double(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    public static bool? Bool(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

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
