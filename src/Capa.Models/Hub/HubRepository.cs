using System.Text.Json;
using System.Text.Json.Serialization;
using Capa.Models.Store;

namespace Capa.Models.Hub;

/// <summary>One file of a hub repository.</summary>
/// <param name="Path">The repository path, '/'-separated (<c>rfilename</c>).</param>
/// <param name="Size">The size in bytes, when the hub said.</param>
/// <param name="Sha256">The LFS sha256 (lower-case hex), for files stored in LFS.</param>
internal sealed record HubFile(string Path, long? Size, string? Sha256);

/// <summary>A repository's file list at one revision, from <c>GET /api/models/{repo}/revision/{rev}?blobs=true</c>.</summary>
/// <param name="Id">The repository id as the hub spells it.</param>
/// <param name="Commit">The commit the revision resolved to, when the hub said.</param>
/// <param name="Files">The files with a safe relative path (others are dropped).</param>
internal sealed record HubRepository(string Id, string? Commit, IReadOnlyList<HubFile> Files)
{
    /// <summary>Parses the API's JSON; <see langword="null"/> when it is not a model info object.</summary>
    public static HubRepository? Parse(ReadOnlySpan<byte> json, string requestedId)
    {
        HubModelInfoDto? dto;
        try
        {
            dto = JsonSerializer.Deserialize(json, HubJsonContext.Default.HubModelInfoDto);
        }
        catch (JsonException)
        {
            return null;
        }

        if (dto?.Siblings is null)
        {
            return null;
        }

        var files = new List<HubFile>(dto.Siblings.Count);
        foreach (var sibling in dto.Siblings)
        {
            if (sibling?.RFileName is not { } path || !IsSafeRelativePath(path))
            {
                continue;
            }

            var sha = sibling.Lfs?.Sha256 is { Length: 64 } hex && hex.All(char.IsAsciiHexDigit) ? hex.ToLowerInvariant() : null;
            var size = sibling.Lfs?.Size ?? sibling.Size;
            files.Add(new HubFile(path, size is >= 0 ? size : null, sha));
        }

        // The hub's spelling wins (it matches ids case-insensitively), but only when it names the same repository.
        var id = dto.Id is { } hubId && string.Equals(hubId, requestedId, StringComparison.OrdinalIgnoreCase) && ModelId.IsValid(hubId, out _)
            ? hubId
            : requestedId;
        var commit = dto.Sha is { Length: > 0 } sha1 && sha1.All(char.IsAsciiHexDigit) ? sha1 : null;
        return new HubRepository(id, commit, files);
    }

    /// <summary>
    /// Whether a path from the hub can be written under the download folder: relative, '/'-separated, no empty,
    /// '.', '..' or hidden segments, no characters that mean something else to a file system.
    /// </summary>
    internal static bool IsSafeRelativePath(string path)
    {
        if (path.Length is 0 or > 1024 || path.EndsWith(HubDownloader.PartSuffix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment[0] == '.' || segment.Length > 255)
            {
                return false;
            }

            foreach (var c in segment)
            {
                if (c < ' ' || c is '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|')
                {
                    return false;
                }
            }
        }

        return true;
    }
}

internal sealed class HubModelInfoDto
{
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [JsonPropertyName("sha")]
    public string? Sha { get; set; }

    [JsonPropertyName("siblings")]
    public List<HubSiblingDto?>? Siblings { get; set; }
}

internal sealed class HubSiblingDto
{
    [JsonPropertyName("rfilename")]
    public string? RFileName { get; set; }

    [JsonPropertyName("size")]
    public long? Size { get; set; }

    [JsonPropertyName("lfs")]
    public HubLfsDto? Lfs { get; set; }
}

internal sealed class HubLfsDto
{
    [JsonPropertyName("sha256")]
    public string? Sha256 { get; set; }

    [JsonPropertyName("size")]
    public long? Size { get; set; }
}

[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(HubModelInfoDto))]
internal sealed partial class HubJsonContext : JsonSerializerContext;
