using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using DocumentFormat.OpenXml.Packaging;
using UglyToad.PdfPig;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;
using Word = DocumentFormat.OpenXml.Wordprocessing;

namespace Capa.Server.VectorStores;

/// <summary>The text of an uploaded file, or why there is none.</summary>
/// <param name="Text">The text, or null.</param>
/// <param name="ErrorCode"><c>unsupported_file</c> or <c>invalid_file</c> when there is no text.</param>
/// <param name="ErrorMessage">Why.</param>
internal sealed record ExtractedText(string? Text, string? ErrorCode = null, string? ErrorMessage = null);

/// <summary>
/// Text from the file types file search reads: plain text, Markdown, JSON, CSV, HTML (tags dropped) and source code, as
/// UTF-8; PDF (the text of each page in reading order, PdfPig) and Word <c>.docx</c> (the paragraphs of the body,
/// tables included, Open XML SDK). A PDF or Word file that cannot be read fails with <c>invalid_file</c>; other formats
/// (images, archives, legacy <c>.doc</c>) with <c>unsupported_file</c> and the reason.
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
        if (extension.Equals(".pdf", StringComparison.OrdinalIgnoreCase))
        {
            return Parsed(bytes, "PDF", ReadPdf);
        }

        if (extension.Equals(".docx", StringComparison.OrdinalIgnoreCase))
        {
            return Parsed(bytes, "Word (.docx)", ReadDocx);
        }

        var isHtml = HtmlExtensions.Contains(extension);
        if (!isHtml && !TextExtensions.Contains(extension) && extension.Length > 0)
        {
            return new ExtractedText(null, "unsupported_file",
                $"Files of type '{extension}' are not supported for file search: upload text, Markdown, JSON, CSV, HTML, source code, PDF or Word (.docx).");
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

    private static ExtractedText Parsed(ReadOnlySpan<byte> bytes, string kind, Func<byte[], string> read)
    {
        string text;
        try
        {
            text = read(bytes.ToArray());
        }
#pragma warning disable CA1031 // The parsers throw many kinds of exception on a damaged file; each fails only this file.
        catch (Exception e) when (e is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            return new ExtractedText(null, "invalid_file", $"The file could not be parsed as {kind}: {e.Message}");
        }

        return text.Trim().Length == 0
            ? new ExtractedText(null, "invalid_file", $"The {kind} file has no text (a scanned document needs OCR first).")
            : new ExtractedText(text);
    }

    private static string ReadPdf(byte[] bytes)
    {
        var text = new StringBuilder();
        using var document = PdfDocument.Open(bytes);
        foreach (var page in document.GetPages())
        {
            text.Append(ContentOrderTextExtractor.GetText(page)).Append("\n\n");
        }

        return text.ToString();
    }

    private static string ReadDocx(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        using var document = WordprocessingDocument.Open(stream, isEditable: false);
        var body = document.MainDocumentPart?.Document?.Body ?? throw new InvalidDataException("The document has no body.");
        var text = new StringBuilder();
        foreach (var paragraph in body.Descendants<Word.Paragraph>())
        {
            foreach (var element in paragraph.Descendants())
            {
                switch (element)
                {
                    case Word.Text run:
                        text.Append(run.Text);
                        break;
                    case Word.TabChar:
                        text.Append('\t');
                        break;
                    case Word.Break or Word.CarriageReturn:
                        text.Append('\n');
                        break;
                }
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    [GeneratedRegex(@"<(script|style)\b[^>]*>.*?</\1\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline, 1000)]
    private static partial Regex ScriptsAndStyles();

    [GeneratedRegex(@"<[^>]*>", RegexOptions.None, 1000)]
    private static partial Regex Tags();
}
