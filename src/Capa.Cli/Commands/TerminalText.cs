using System.Globalization;
using System.Text;

namespace Capa.Cli.Commands;

/// <summary>
/// Text that came from a server (model output, model ids, error messages) made safe to show on a terminal: control
/// characters would otherwise be obeyed by it (ESC sequences move the cursor, recolour, retitle the window or answer
/// back). Newline and tab are kept; carriage return is dropped (it would let later text overwrite a line); every other
/// C0 control and DEL are shown in caret notation (<c>^[</c>, <c>^B</c>, <c>^?</c>) and C1 controls as <c>&lt;U+009B&gt;</c>.
/// </summary>
internal static class TerminalText
{
    /// <summary>Whether <paramref name="writer"/> is the process's standard output or error and that stream is a terminal.</summary>
    public static bool IsTerminal(TextWriter writer) =>
        ReferenceEquals(writer, Console.Out) ? !Console.IsOutputRedirected
        : ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>The text for <paramref name="writer"/>: escaped when it is a terminal, unchanged when it is a pipe or a file.</summary>
    public static Func<string, string> For(TextWriter writer, Func<TextWriter, bool> isTerminal)
    {
        ArgumentNullException.ThrowIfNull(isTerminal);
        return isTerminal(writer) ? Escape : static text => text;
    }

    /// <summary>Escapes or drops every control character except newline and tab.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var span = text.AsSpan();
        var first = IndexOfUnsafe(span);
        if (first < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8).Append(span[..first]);
        foreach (var c in span[first..])
        {
            switch (c)
            {
                case '\n' or '\t':
                    builder.Append(c);
                    break;
                case '\r':
                    break;
                case < ' ':
                    builder.Append('^').Append((char)(c + '@'));
                    break;
                case '\u007f':
                    builder.Append("^?");
                    break;
                case >= '\u0080' and <= '\u009f':
                    builder.Append(CultureInfo.InvariantCulture, $"<U+{(int)c:X4}>");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }

    private static int IndexOfUnsafe(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsControl(c) && c is not ('\n' or '\t'))
            {
                return i;
            }
        }

        return -1;
    }
}
