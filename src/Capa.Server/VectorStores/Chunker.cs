using Capa.Protocol.VectorStores;

namespace Capa.Server.VectorStores;

/// <summary>
/// Cuts a text into chunks of at most <see cref="ChunkingStrategy.MaxChunkSizeTokens"/> tokens that share
/// <see cref="ChunkingStrategy.ChunkOverlapTokens"/> with the chunk before. Cuts fall between whitespace-separated
/// words, so each chunk is a verbatim span of the text (citations quote the file exactly).
/// </summary>
internal static class Chunker
{
    /// <summary>The chunks of <paramref name="text"/>, counting tokens with <paramref name="countTokens"/> (a word alone).</summary>
    public static List<string> Chunk(string text, ChunkingStrategy strategy, Func<string, int> countTokens)
    {
        var words = Words(text);
        var counts = words.Select(w => Math.Max(1, countTokens(text.Substring(w.Start, w.Length)))).ToArray();
        var chunks = new List<string>();
        var start = 0;
        while (start < words.Count)
        {
            var end = start;
            var tokens = 0;
            while (end < words.Count && (end == start || tokens + counts[end] <= strategy.MaxChunkSizeTokens))
            {
                tokens += counts[end];
                end++;
            }

            chunks.Add(text[words[start].Start..(words[end - 1].Start + words[end - 1].Length)]);
            if (end >= words.Count)
            {
                break;
            }

            // Step back over words worth the overlap, always moving forward by at least one word.
            var next = end;
            var shared = 0;
            while (next - 1 > start && shared + counts[next - 1] <= strategy.ChunkOverlapTokens)
            {
                next--;
                shared += counts[next];
            }

            start = next;
        }

        return chunks;
    }

    private static List<(int Start, int Length)> Words(string text)
    {
        var words = new List<(int, int)>();
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            var start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i > start)
            {
                // A long run without spaces (Chinese, minified code) is cut every 32 characters so it can still be chunked.
                var s = start;
                while (s < i)
                {
                    var end = Math.Min(i, s + 32);
                    if (end < i && char.IsHighSurrogate(text[end - 1]))
                    {
                        end++;
                    }

                    words.Add((s, end - s));
                    s = end;
                }
            }
        }

        return words;
    }
}
