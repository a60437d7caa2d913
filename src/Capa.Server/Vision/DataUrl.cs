using System.Diagnostics.CodeAnalysis;

namespace Capa.Server.Vision;

/// <summary>
/// A <c>data:</c> URL (RFC 2397) carrying base64 bytes: <c>data:image/png;base64,iVBOR…</c>. The declared media type
/// is kept for logs only; the image format is always found from the bytes.
/// </summary>
internal static class DataUrl
{
    /// <summary>Whether <paramref name="url"/> starts with the <c>data:</c> scheme (any case).</summary>
    public static bool IsDataUrl(string url) => url.StartsWith("data:", StringComparison.OrdinalIgnoreCase);

    /// <summary>Where the base64 payload starts and the declared media type, or why the URL is not one we read.</summary>
    public static bool TryParseHeader(string url, out int payloadStart, out string mediaType, [NotNullWhen(false)] out string? problem)
    {
        payloadStart = 0;
        mediaType = "";
        var comma = url.IndexOf(',', StringComparison.Ordinal);
        if (comma < 0)
        {
            problem = "it has no comma before the data";
            return false;
        }

        var header = url.AsSpan(5, comma - 5);
        var parameters = header.ToString().Split(';');
        if (parameters.Length < 2 || !parameters[^1].Trim().Equals("base64", StringComparison.OrdinalIgnoreCase))
        {
            problem = "it is not base64-encoded";
            return false;
        }

        mediaType = parameters[0].Trim().ToLowerInvariant();
        payloadStart = comma + 1;
        problem = null;
        return true;
    }

    /// <summary>
    /// Decodes the base64 payload if its decoded size can be at most <paramref name="maxBytes"/>; <paramref name="tooLarge"/>
    /// says the payload was over the cap (nothing decoded), otherwise a false result means invalid base64.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> payload, long maxBytes, [NotNullWhen(true)] out byte[]? bytes, out bool tooLarge)
    {
        bytes = null;

        // Whitespace is legal inside base64 and skipped; every 4 other characters are 3 bytes, less up to 2 of padding.
        tooLarge = false;
        var significant = payload.Length - CountWhitespace(payload);
        var upperBound = (significant + 3L) / 4 * 3;
        if (upperBound - 2 > maxBytes)
        {
            tooLarge = true;
            return false;
        }

        var buffer = new byte[upperBound];
        if (!Convert.TryFromBase64Chars(payload, buffer, out var written))
        {
            return false;
        }

        if (written > maxBytes)
        {
            tooLarge = true;
            return false;
        }

        bytes = buffer.AsSpan(0, written).ToArray();
        return true;
    }

    private static int CountWhitespace(ReadOnlySpan<char> text)
    {
        var count = 0;
        foreach (var c in text)
        {
            if (c is ' ' or '\t' or '\r' or '\n')
            {
                count++;
            }
        }

        return count;
    }
}
