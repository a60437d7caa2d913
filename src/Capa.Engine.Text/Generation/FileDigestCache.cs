using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// SHA-256 digests of model files, cached in a small JSON file keyed by path, size and modification time, so that a
/// start-up does not re-hash gigabytes of weights. A file whose size or time changed is hashed again.
/// </summary>
public sealed class FileDigestCache
{
    private readonly string _cachePath;
    private readonly Lock _lock = new();
    private Dictionary<string, Entry>? _entries;

    /// <summary>Creates a cache stored in <paramref name="cachePath"/> (created on first save; unreadable content is ignored).</summary>
    public FileDigestCache(string cachePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(cachePath);
        _cachePath = cachePath;
    }

    /// <summary>Files hashed (not served from the cache) by this instance; lets callers and tests see the cache work.</summary>
    public int FilesHashed { get; private set; }

    /// <summary>Returns the lower-case hex SHA-256 of <paramref name="path"/>, from the cache when size and time match.</summary>
    public string GetSha256(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"Cannot digest '{path}': no such file.", path);
        }

        var key = Path.GetFullPath(path);
        var ticks = info.LastWriteTimeUtc.Ticks;
        lock (_lock)
        {
            _entries ??= Read();
            if (_entries.TryGetValue(key, out var e) && e.Size == info.Length && e.MtimeTicks == ticks)
            {
                return e.Sha256;
            }
        }

        string digest;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
        {
            digest = Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        lock (_lock)
        {
            FilesHashed++;
            _entries![key] = new Entry(info.Length, ticks, digest);
            Save();
        }

        return digest;
    }

    private Dictionary<string, Entry> Read()
    {
        try
        {
            if (File.Exists(_cachePath))
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(_cachePath));
                var result = new Dictionary<string, Entry>(StringComparer.Ordinal);
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    var v = p.Value;
                    if (v.TryGetProperty("size", out var size) && v.TryGetProperty("mtime", out var mtime) && v.TryGetProperty("sha256", out var sha)
                        && size.TryGetInt64(out var s) && mtime.TryGetInt64(out var m) && sha.GetString() is { Length: 64 } hex)
                    {
                        result[p.Name] = new Entry(s, m, hex);
                    }
                }

                return result;
            }
        }
        catch (JsonException)
        {
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return new Dictionary<string, Entry>(StringComparer.Ordinal);
    }

    private void Save()
    {
        try
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(_cachePath));
            if (dir is not null)
            {
                Directory.CreateDirectory(dir);
            }

            var tmp = _cachePath + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
            using (var stream = File.Create(tmp))
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartObject();
                foreach (var (path, e) in _entries!.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WriteStartObject(path);
                    writer.WriteNumber("size", e.Size);
                    writer.WriteNumber("mtime", e.MtimeTicks);
                    writer.WriteString("sha256", e.Sha256);
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }

            File.Move(tmp, _cachePath, overwrite: true);
        }
        catch (IOException)
        {
            // A read-only models folder only costs a re-hash at the next start.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed record Entry(long Size, long MtimeTicks, string Sha256);
}
