using System.Text;

namespace Capa.Storage.VectorStores;

/// <summary>
/// The words keyword search matches: lowercase runs of letters and digits, and each CJK, kana or hangul character
/// alone (those scripts write words without spaces). The store indexes chunks with it and the search splits queries
/// with it, so both sides always agree.
/// </summary>
public static class KeywordTerms
{
    /// <summary>The terms of a text, in order, repeats kept.</summary>
    public static List<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var terms = new List<string>();
        var current = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (IsIdeograph(rune.Value))
            {
                Flush();
                terms.Add(rune.ToString());
            }
            else if (Rune.IsLetterOrDigit(rune))
            {
                current.Append(Rune.ToLowerInvariant(rune).ToString());
            }
            else
            {
                Flush();
            }
        }

        Flush();
        return terms;

        void Flush()
        {
            if (current.Length > 0)
            {
                terms.Add(current.ToString());
                current.Clear();
            }
        }
    }

    /// <summary>Each distinct term of a text with its count, and the text's length in terms.</summary>
    public static (Dictionary<string, int> Frequencies, int Length) Count(string text)
    {
        var terms = Split(text);
        var frequencies = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var term in terms)
        {
            frequencies[term] = frequencies.GetValueOrDefault(term) + 1;
        }

        return (frequencies, terms.Count);
    }

    private static bool IsIdeograph(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2FA1F) or (>= 0xF900 and <= 0xFAFF)
            or (>= 0x3040 and <= 0x30FF) or (>= 0xAC00 and <= 0xD7AF);
}

/// <summary>Where a chunk is: its vector store, file and position in the file.</summary>
public readonly record struct ChunkKey(string VectorStoreId, string FileId, int Position);

/// <summary>A stored chunk's vector, without its text (what the exact cosine scan reads).</summary>
public sealed record ChunkVector(ChunkKey Key, float[] Embedding);

/// <summary>A completed file's attributes, for search filters.</summary>
public sealed record VectorStoreFileAttributes(string VectorStoreId, string FileId, string AttributesJson);

/// <summary>One term in one chunk: how often it occurs there, and the chunk's length in terms.</summary>
public sealed record KeywordPosting(ChunkKey Chunk, string Term, int Frequency, int ChunkLength);

/// <summary>
/// What BM25 needs for one query, read from the index the store keeps on insert and delete: the number of indexed
/// chunks and their total length in terms (for the average), and every posting of the query's terms (a term's
/// document frequency is the number of its postings).
/// </summary>
/// <param name="ChunkCount">Indexed chunks in the searched stores.</param>
/// <param name="TermCount">Their total length in terms.</param>
/// <param name="Postings">The postings of the requested terms.</param>
public sealed record KeywordStatistics(long ChunkCount, long TermCount, IReadOnlyList<KeywordPosting> Postings);
