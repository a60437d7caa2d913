using System.Text.Json;
using Capa.Models.Config;

namespace Capa.Engine.Vision;

/// <summary>Lenient readers for the loosely typed Hugging Face JSON files of a vision folder.</summary>
internal static class VisionJson
{
    public static int? Int(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    public static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>A token id field written either as one number or as a list of numbers.</summary>
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

        return v.ValueKind == JsonValueKind.Array
            ? [.. v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out _)).Select(e => e.GetInt32())]
            : [];
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
