using System.Text;

namespace Capa.Templates.Syntax;

/// <summary>
/// The whitespace rules Hugging Face applies before tokenizing a chat template (transformers renders with
/// <c>trim_blocks=True, lstrip_blocks=True</c>): drop one trailing newline, strip spaces and tabs before a block or
/// comment tag at the start of a line, and drop the first newline after a block or comment tag. Done as text passes,
/// exactly as @huggingface/jinja does, while remembering where each kept character came from.
/// </summary>
internal static class Preprocessor
{
    public static (string Text, int[] ToOriginal) Run(string source)
    {
        int length = source.Length;
        if (length > 0 && source[length - 1] == '\n')
        {
            length--;
        }

        // Pass 1 (lstrip_blocks): at a line start, spaces and tabs followed by "{#", "{%" or "{-" are removed.
        var text = new StringBuilder(length);
        var map = new List<int>(length);
        bool lineStart = true;
        for (int i = 0; i < length; i++)
        {
            if (lineStart)
            {
                int j = i;
                while (j < length && (source[j] == ' ' || source[j] == '\t'))
                {
                    j++;
                }

                if (j > i && j + 1 < length && source[j] == '{' && source[j + 1] is '#' or '%' or '-')
                {
                    i = j;
                }
            }

            char c = source[i];
            text.Append(c);
            map.Add(i);
            lineStart = c is '\n' or '\r' or '\u2028' or '\u2029';
        }

        // Pass 2 (trim_blocks): the newline right after "%}", "#}" or "-}" is removed.
        var trimmed = new StringBuilder(text.Length);
        var trimmedMap = new List<int>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (i + 2 < text.Length && text[i] is '#' or '%' or '-' && text[i + 1] == '}' && text[i + 2] == '\n')
            {
                trimmed.Append(text[i]).Append('}');
                trimmedMap.Add(map[i]);
                trimmedMap.Add(map[i + 1]);
                i += 2;
                continue;
            }

            trimmed.Append(text[i]);
            trimmedMap.Add(map[i]);
        }

        return (trimmed.ToString(), [.. trimmedMap]);
    }
}
