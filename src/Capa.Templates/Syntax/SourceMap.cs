namespace Capa.Templates.Syntax;

/// <summary>
/// Maps offsets in the preprocessed template text back to lines and columns of the source the author wrote,
/// so that errors point at what the author sees.
/// </summary>
internal sealed class SourceMap
{
    private readonly int[] _lineStarts;
    private readonly int[] _toOriginal;

    public SourceMap(string source, int[] toOriginal)
    {
        var starts = new List<int> { 0 };
        for (int i = 0; i < source.Length; i++)
        {
            if (source[i] == '\n')
            {
                starts.Add(i + 1);
            }
        }

        _lineStarts = [.. starts];
        _toOriginal = toOriginal;
    }

    /// <summary>1-based line and column of an offset in the preprocessed text.</summary>
    public (int Line, int Column) Locate(int preprocessedOffset)
    {
        int original = preprocessedOffset < 0 ? 0
            : preprocessedOffset < _toOriginal.Length ? _toOriginal[preprocessedOffset]
            : _toOriginal.Length == 0 ? 0 : _toOriginal[^1] + 1;
        int line = Array.BinarySearch(_lineStarts, original);
        if (line < 0)
        {
            line = ~line - 1;
        }

        return (line + 1, original - _lineStarts[line] + 1);
    }

    public TemplateException Error(TemplateErrorKind kind, string message, int preprocessedOffset)
    {
        (int line, int column) = Locate(preprocessedOffset);
        return new TemplateException($"{message} (line {line}, column {column})", kind, line, column);
    }
}
