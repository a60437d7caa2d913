using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Capa.Server.VectorStores;

/// <summary>The text of an uploaded file, or why there is none.</summary>
/// <param name="Text">The text, or null.</param>
/// <param name="ErrorCode"><c>unsupported_file</c> or <c>invalid_file</c> when there is no text.</param>
/// <param name="ErrorMessage">Why.</param>
internal sealed record ExtractedText(string? Text, string? ErrorCode = null, string? ErrorMessage = null);

/// <summary>
/// Text from the file types file search reads: plain text, Markdown, JSON, CSV, HTML (tags dropped) and source code, as
/// UTF-8. Other formats (PDF, Word, images, archives) fail with <c>unsupported_file</c> and the reason.
/// </summary>
internal static partial class TextExtractor
{
    private static readonly HashSet<string> TextExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".txt", ".md", ".markdown", ".json", ".jsonl", ".csv", ".tsv", ".xml", ".yaml", ".yml", ".rst", ".tex", ".log", ".ini", ".toml",
        ".c", ".cc", ".cpp", ".cs", ".css", ".go", ".h", ".hpp", ".java", ".js", ".mjs", ".ts", ".tsx", ".jsx", ".kt", ".php", ".py",
        ".rb", ".rs", ".sh", ".sql", ".swift", ".scala", ".lua", ".pl", ".r", ".m", ".vue",
    };

    private static readonly HashSet<string> HtmlExtensions = new(StringComparer.OrdinalIgnoreCase) { ".html", ".htm", ".xhtml" };

    public static ExtractedText Extract(string filename, ReadOnlySpan<byte> bytes)
    {
        var extension = Path.GetExtension(filename);
        var isHtml = HtmlExtensions.Contains(extension);
        if (!isHtml && !TextExtensions.Contains(extension) && extension.Length > 0)
        {
            return new ExtractedText(null, "unsupported_file",
                $"Files of type '{extension}' are not supported for file search: upload text, Markdown, JSON, CSV, HTML or source code.");
        }

        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return new ExtractedText(null, "invalid_file", "The file is not valid UTF-8 text.");
        }

        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        if (isHtml)
        {
            text = WebUtility.HtmlDecode(Tags().Replace(ScriptsAndStyles().Replace(text, " "), " "));
        }

        return text.Trim().Length == 0
            ? new ExtractedText(null, "invalid_file", "The file has no text.")
            : new ExtractedText(text);
    }

    [GeneratedRegex(@"<(script|style)\b[^>]*>.*?</\1\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline, 1000)]
    private static partial Regex ScriptsAndStyles();

    [GeneratedRegex(@"<[^>]*>", RegexOptions.None, 1000)]
    private static partial Regex Tags();
}
