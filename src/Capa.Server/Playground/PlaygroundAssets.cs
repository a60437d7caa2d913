using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;

namespace Capa.Server.Playground;

/// <summary>One file of the page, read once from the server assembly.</summary>
internal sealed record PlaygroundAsset(string Path, byte[] Content, string ContentType, string ETag);

/// <summary>
/// The playground's static files, embedded in this assembly under <see cref="ResourcePrefix"/> (see the project file):
/// no folder on disk to find or lose, and the page is exactly the one built with the server.
/// </summary>
internal sealed class PlaygroundAssets
{
    /// <summary>The logical name prefix of the embedded files.</summary>
    public const string ResourcePrefix = "Capa.Server.Playground/";

    /// <summary>The page itself.</summary>
    public const string IndexPath = "index.html";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".json"] = "application/json; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
        [".txt"] = "text/plain; charset=utf-8",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private readonly FrozenDictionary<string, PlaygroundAsset> _assets;

    public PlaygroundAssets()
        : this(typeof(PlaygroundAssets).Assembly)
    {
    }

    internal PlaygroundAssets(Assembly assembly)
    {
        var assets = new Dictionary<string, PlaygroundAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var path = name[ResourcePrefix.Length..].Replace('\\', '/');
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var contentType = ContentTypes.GetValueOrDefault(System.IO.Path.GetExtension(path), "application/octet-stream");
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12)) + "\"";
            assets[path] = new PlaygroundAsset(path, content, contentType, etag);
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The relative paths of every file (for tests and diagnostics).</summary>
    public IEnumerable<string> Paths => _assets.Keys;

    /// <summary>The file at <paramref name="path"/> (relative, forward slashes); false for anything else.</summary>
    public bool TryGet(string path, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PlaygroundAsset? asset) =>
        _assets.TryGetValue(path, out asset);
}
