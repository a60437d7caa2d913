using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Capa.Engine.Speech.Kokoro;

/// <summary>
/// Kokoro's <c>tokenizer.json</c>: a word-level vocabulary of single phoneme symbols, a normalizer that deletes every
/// symbol outside it, and a template that puts the pad token (<c>$</c>, id 0) at both ends.
/// </summary>
public sealed class KokoroTokenizer
{
    /// <summary>The most phonemes one run of the model takes (its 512 positions less the two pads).</summary>
    public const int MaxPhonemes = 510;

    private readonly Dictionary<string, long> _vocab;
    private readonly Regex? _remove;
    private readonly long _pad;

    private KokoroTokenizer(Dictionary<string, long> vocab, Regex? remove, long pad)
    {
        _vocab = vocab;
        _remove = remove;
        _pad = pad;
    }

    /// <summary>The number of symbols.</summary>
    public int Count => _vocab.Count;

    /// <summary>Reads a <c>tokenizer.json</c>.</summary>
    public static bool TryLoad(string path, [NotNullWhen(true)] out KokoroTokenizer? tokenizer, [NotNullWhen(false)] out string? error)
    {
        tokenizer = null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (!root.TryGetProperty("model", out var model) || !model.TryGetProperty("vocab", out var vocabElement) || vocabElement.ValueKind != JsonValueKind.Object)
            {
                error = $"'{path}' has no model.vocab object.";
                return false;
            }

            var vocab = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var entry in vocabElement.EnumerateObject())
            {
                vocab[entry.Name] = entry.Value.GetInt64();
            }

            Regex? remove = null;
            if (root.TryGetProperty("normalizer", out var normalizer) && normalizer.ValueKind == JsonValueKind.Object
                && normalizer.TryGetProperty("type", out var type) && type.GetString() == "Replace"
                && normalizer.TryGetProperty("pattern", out var pattern) && pattern.TryGetProperty("Regex", out var regex)
                && normalizer.TryGetProperty("content", out var content) && content.GetString() == "")
            {
                remove = new Regex(regex.GetString()!, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }

            var pad = vocab.TryGetValue("$", out var dollar) ? dollar : 0;
            tokenizer = new KokoroTokenizer(vocab, remove, pad);
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            error = $"'{path}' cannot be read: {ex.Message}";
            return false;
        }
    }

    /// <summary>
    /// The ids of <paramref name="phonemes"/> with the pad at both ends; symbols outside the vocabulary are dropped
    /// (as the normalizer does). At most <see cref="MaxPhonemes"/> symbols are kept, as kokoro-js truncates.
    /// </summary>
    public long[] Encode(string phonemes)
    {
        var symbols = Symbols(phonemes);
        var count = Math.Min(symbols.Count, MaxPhonemes);
        var ids = new long[count + 2];
        ids[0] = _pad;
        symbols.CopyTo(0, ids, 1, count);
        ids[^1] = _pad;
        return ids;
    }

    /// <summary>How many symbols of <paramref name="phonemes"/> the vocabulary knows (before truncation).</summary>
    public int CountSymbols(string phonemes) => Symbols(phonemes).Count;

    private List<long> Symbols(string phonemes)
    {
        ArgumentNullException.ThrowIfNull(phonemes);
        if (_remove is not null)
        {
            phonemes = _remove.Replace(phonemes, "");
        }

        var ids = new List<long>(phonemes.Length);
        foreach (var rune in phonemes.EnumerateRunes())
        {
            if (_vocab.TryGetValue(rune.ToString(), out var id))
            {
                ids.Add(id);
            }
        }

        return ids;
    }
}
