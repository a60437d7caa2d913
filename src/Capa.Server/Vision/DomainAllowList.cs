using System.Globalization;

namespace Capa.Server.Vision;

/// <summary>
/// The hosts images may be fetched from: <c>example.com</c> matches that host only, <c>*.example.com</c> its
/// subdomains (not itself). Empty allows any host (the address checks still apply).
/// </summary>
public sealed class DomainAllowList
{
    private static readonly IdnMapping Idn = new();
    private readonly HashSet<string> _exact = new(StringComparer.Ordinal);
    private readonly List<string> _suffixes = [];

    /// <summary>Creates a list from config entries (validated with <see cref="IsValidEntry"/>).</summary>
    public DomainAllowList(IEnumerable<string> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var entry in entries)
        {
            if (!TryNormalize(entry, out var host, out var wildcard))
            {
                throw new ArgumentException($"'{entry}' is not a host name or *.host pattern.", nameof(entries));
            }

            if (wildcard)
            {
                _suffixes.Add("." + host);
            }
            else
            {
                _exact.Add(host);
            }
        }
    }

    /// <summary>The list that allows any host.</summary>
    public static DomainAllowList Any { get; } = new([]);

    /// <summary>Whether the list allows every host.</summary>
    public bool AllowsAny => _exact.Count == 0 && _suffixes.Count == 0;

    /// <summary>Whether a config entry is a host name (or IP literal) or <c>*.</c> followed by one.</summary>
    public static bool IsValidEntry(string? entry) => TryNormalize(entry, out _, out _);

    /// <summary>Whether <paramref name="host"/> (a URL's host, any case, IDN or punycode) is allowed.</summary>
    public bool Allows(string host)
    {
        if (AllowsAny)
        {
            return true;
        }

        if (!TryNormalize(host, out var normalized, out var wildcard) || wildcard)
        {
            return false;
        }

        return _exact.Contains(normalized) || _suffixes.Exists(s => normalized.EndsWith(s, StringComparison.Ordinal));
    }

    private static bool TryNormalize(string? entry, out string host, out bool wildcard)
    {
        host = "";
        wildcard = false;
        if (string.IsNullOrWhiteSpace(entry))
        {
            return false;
        }

        var text = entry.Trim().TrimEnd('.');
        if (text.StartsWith("*.", StringComparison.Ordinal))
        {
            wildcard = true;
            text = text[2..];
        }

        if (text.StartsWith('[') && text.EndsWith(']'))
        {
            text = text[1..^1];
        }

        if (text.Length == 0 || Uri.CheckHostName(text) == UriHostNameType.Unknown)
        {
            return false;
        }

        if (text.All(char.IsAscii))
        {
            host = text.ToLowerInvariant();
            return true;
        }

        // Unicode names compare in their punycode form, the form a URI's IdnHost has.
        try
        {
            host = Idn.GetAscii(text).ToLowerInvariant();
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
