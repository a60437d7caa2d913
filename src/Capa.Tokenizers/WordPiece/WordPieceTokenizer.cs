using System.Globalization;
using System.Text;
using System.Text.Json;
using Capa.Tokenizers.Normalization;

namespace Capa.Tokenizers.WordPiece;

/// <summary>
/// A BERT tokenizer from a Hugging Face <c>tokenizer.json</c> whose model is <c>WordPiece</c>: the
/// <c>BertNormalizer</c> (control characters dropped, CJK ideographs isolated, accents stripped, lowercase), the
/// <c>BertPreTokenizer</c> (whitespace and punctuation), greedy longest-match WordPiece with the <c>##</c> prefix,
/// and the template that wraps a sequence in <c>[CLS] … [SEP]</c> — as the Rust tokenizers and transformers.js do.
/// </summary>
public sealed class WordPieceTokenizer : IEncoderTokenizer
{
    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _idToToken;
    private readonly string _prefix;
    private readonly int _maxCharsPerWord;
    private readonly bool _cleanText, _chineseChars, _stripAccents, _lowercase;
    private readonly int[] _prefixIds, _suffixIds;
    private readonly Dictionary<string, int> _addedTokens;
    private long _normalizedChars;

    private WordPieceTokenizer(Dictionary<string, int> vocab, string unk, string prefix, int maxCharsPerWord, bool clean, bool chinese, bool strip, bool lower, int[] prefixIds, int[] suffixIds, Dictionary<string, int> added)
    {
        _vocab = vocab;
        _idToToken = new string[vocab.Count == 0 ? 0 : vocab.Values.Max() + 1];
        foreach (var (token, id) in vocab)
        {
            _idToToken[id] = token;
        }

        UnkId = vocab.TryGetValue(unk, out var u) ? u : throw new InvalidDataException($"The WordPiece vocabulary has no unknown token '{unk}'.");
        _prefix = prefix;
        _maxCharsPerWord = maxCharsPerWord;
        _cleanText = clean;
        _chineseChars = chinese;
        _stripAccents = strip;
        _lowercase = lower;
        _prefixIds = prefixIds;
        _suffixIds = suffixIds;
        _addedTokens = added;
    }

    /// <summary>The id of the unknown token.</summary>
    public int UnkId { get; }

    /// <summary>The number of ids (the largest id plus one).</summary>
    public int VocabSize => _idToToken.Length;

    /// <summary>Ids added around every sequence (e.g. <c>[CLS]</c> before, <c>[SEP]</c> after).</summary>
    public int SpecialTokenCount => _prefixIds.Length + _suffixIds.Length;

    /// <summary>Whether a <c>tokenizer.json</c> has a WordPiece model.</summary>
    public static bool IsWordPiece(JsonElement root) =>
        root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object
        && model.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "WordPiece";

    /// <summary>Reads a <c>tokenizer.json</c>.</summary>
    /// <exception cref="InvalidDataException">The file is not a WordPiece tokenizer this class supports.</exception>
    public static WordPieceTokenizer FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (!IsWordPiece(root))
        {
            throw new InvalidDataException("The tokenizer's model is not WordPiece.");
        }

        var model = root.GetProperty("model");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
        {
            vocab[entry.Name] = entry.Value.GetInt32();
        }

        var unk = String(model, "unk_token") ?? "[UNK]";
        var prefix = String(model, "continuing_subword_prefix") ?? "##";
        var maxChars = model.TryGetProperty("max_input_chars_per_word", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetInt32() : 100;

        bool clean = false, chinese = false, strip = false, lower = false;
        if (root.TryGetProperty("normalizer", out var normalizer) && normalizer.ValueKind == JsonValueKind.Object)
        {
            var type = String(normalizer, "type");
            if (type != "BertNormalizer")
            {
                throw new InvalidDataException($"Unsupported normalizer '{type}' for a WordPiece tokenizer.");
            }

            clean = Bool(normalizer, "clean_text") ?? true;
            chinese = Bool(normalizer, "handle_chinese_chars") ?? true;
            lower = Bool(normalizer, "lowercase") ?? true;
            strip = Bool(normalizer, "strip_accents") ?? lower;
        }

        if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind == JsonValueKind.Object && String(pre, "type") is not ("BertPreTokenizer" or null))
        {
            throw new InvalidDataException($"Unsupported pre-tokenizer '{String(pre, "type")}' for a WordPiece tokenizer.");
        }

        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out var addedTokens) && addedTokens.ValueKind == JsonValueKind.Array)
        {
            foreach (var token in addedTokens.EnumerateArray())
            {
                if (String(token, "content") is { } content && token.TryGetProperty("id", out var id))
                {
                    added[content] = id.GetInt32();
                    vocab.TryAdd(content, id.GetInt32());
                }
            }
        }

        var (before, after) = ReadTemplate(root, vocab);
        return new WordPieceTokenizer(vocab, unk, prefix, maxChars, clean, chinese, strip, lower, before, after, added);
    }

    /// <summary>Reads <c>tokenizer.json</c> from a model folder.</summary>
    public static WordPieceTokenizer FromFolder(string directory) => FromJson(File.ReadAllText(Path.Combine(directory, "tokenizer.json")));

    /// <summary>The token of an id, or null.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    /// <summary>Encodes a text; with <paramref name="addSpecialTokens"/>, wrapped by the post-processor's template.</summary>
    public int[] Encode(string text, bool addSpecialTokens = true) => Encode(text, addSpecialTokens, int.MaxValue, out _);

    /// <summary>
    /// Encodes a text, stopping as soon as it has more than <paramref name="maxTokens"/> ids: then
    /// <paramref name="complete"/> is false and the ids are the first ones only (more than <paramref name="maxTokens"/>,
    /// the closing template ids not added). The text is read in pieces, so the work and the memory of a text far beyond
    /// <paramref name="maxTokens"/> stay in proportion to <paramref name="maxTokens"/>, not to the text.
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens, int maxTokens, out bool complete)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        var ids = new List<int>((int)Math.Min(text.Length / 3L + 4, maxTokens + 8L));
        if (addSpecialTokens)
        {
            ids.AddRange(_prefixIds);
        }

        // Added (special) tokens are matched in the raw text first (at each position the first that matches, in
        // declaration order); the text between them goes through the pipeline.
        var added = _addedTokens.Where(t => t.Key.Length > 0).ToArray();
        var next = new int[added.Length];
        Array.Fill(next, -1);
        var start = 0;
        complete = true;
        while (true)
        {
            var (at, index) = NextAdded(text, start, added, next);
            if (!EncodePlain(text, start, at, ids, maxTokens))
            {
                complete = false;
                break;
            }

            if (index < 0)
            {
                break;
            }

            ids.Add(added[index].Value);
            start = at + added[index].Key.Length;
        }

        if (complete && addSpecialTokens)
        {
            ids.AddRange(_suffixIds);
        }

        return [.. ids];
    }

    /// <summary>UTF-16 units this instance has normalized while encoding: a measure of the work done.</summary>
    public long NormalizedChars => Interlocked.Read(ref _normalizedChars);

    // The earliest occurrence at or after start of any added token (ties: the first declared), and its index; the
    // text's length and -1 when there is none. next caches each token's next occurrence (-1: not searched yet), so
    // each is searched for once per occurrence instead of once per call.
    private static (int At, int Index) NextAdded(string text, int start, KeyValuePair<string, int>[] added, int[] next)
    {
        var best = text.Length;
        var bestIndex = -1;
        for (var t = 0; t < added.Length; t++)
        {
            if (next[t] < start)
            {
                var found = text.AsSpan(start).IndexOf(added[t].Key, StringComparison.Ordinal);
                next[t] = found < 0 ? int.MaxValue : start + found;
            }

            if (next[t] < best)
            {
                best = next[t];
                bestIndex = t;
            }
        }

        return (best, bestIndex);
    }

    // Normalizes and splits text[from..to] a piece at a time, adding the ids of each word as it ends; false as soon
    // as ids holds more than limit.
    private bool EncodePlain(string text, int from, int to, List<int> ids, int limit)
    {
        var word = new StringBuilder();
        var wordRunes = 0;
        var overlong = false;
        for (var pos = from; pos < to;)
        {
            var end = PieceEnd(text, pos, to);
            var normalized = Normalize(text[pos..end]);
            Interlocked.Add(ref _normalizedChars, end - pos);
            pos = end;
            foreach (var rune in normalized.EnumerateRunes())
            {
                if (Rune.IsWhiteSpace(rune))
                {
                    Flush();
                    if (ids.Count > limit)
                    {
                        return false;
                    }
                }
                else if (IsPunctuation(rune))
                {
                    Flush();
                    AddWord(rune.ToString(), ids);
                    if (ids.Count > limit)
                    {
                        return false;
                    }
                }
                else if (!overlong)
                {
                    // A word longer than the model reads is one unknown id: its characters need not be kept.
                    word.Append(rune.ToString());
                    if (++wordRunes > _maxCharsPerWord)
                    {
                        overlong = true;
                        word.Clear();
                    }
                }
            }
        }

        Flush();
        return ids.Count <= limit;

        void Flush()
        {
            if (overlong)
            {
                ids.Add(UnkId);
            }
            else if (word.Length > 0)
            {
                AddWord(word.ToString(), ids);
            }

            word.Clear();
            wordRunes = 0;
            overlong = false;
        }
    }

    // Where the piece of text starting at pos ends: about PieceChars on, before a character at which normalizing the
    // pieces apart gives what normalizing them together gives (an ASCII character, or a starter that no
    // normalization step changes or combines with what precedes it).
    private static int PieceEnd(string text, int pos, int to)
    {
        const int PieceChars = 8192;
        if (to - pos <= PieceChars)
        {
            return to;
        }

        for (var i = pos + PieceChars; i < to; i++)
        {
            var c = text[i];
            if (c < 0x80 || (!char.IsSurrogate(c) && UnicodeNormalizer.IsStableStarter(c)))
            {
                return i;
            }
        }

        return to;
    }

    /// <summary>The BertNormalizer.</summary>
    internal string Normalize(string text)
    {
        var builder = new StringBuilder(text.Length + 8);
        foreach (var rune in text.EnumerateRunes())
        {
            var cp = rune.Value;
            if (_cleanText)
            {
                if (cp == 0 || cp == 0xFFFD || IsControl(rune))
                {
                    continue;
                }

                if (IsWhitespace(rune))
                {
                    builder.Append(' ');
                    continue;
                }
            }

            if (_chineseChars && IsChinese(cp))
            {
                builder.Append(' ').Append(rune.ToString()).Append(' ');
                continue;
            }

            builder.Append(rune.ToString());
        }

        var normalized = builder.ToString();
        if (_stripAccents)
        {
            var decomposed = UnicodeNormalizer.Normalize(normalized, UnicodeForm.Nfd);
            builder.Clear();
            foreach (var rune in decomposed.EnumerateRunes())
            {
                if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark)
                {
                    builder.Append(rune.ToString());
                }
            }

            normalized = builder.ToString();
        }

        return _lowercase ? normalized.ToLowerInvariant() : normalized;
    }

    /// <summary>The BertPreTokenizer: words split at whitespace (dropped) and punctuation (kept alone).</summary>
    internal static List<string> PreTokenize(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
            {
                Flush();
            }
            else if (IsPunctuation(rune))
            {
                Flush();
                words.Add(rune.ToString());
            }
            else
            {
                current.Append(rune.ToString());
            }
        }

        Flush();
        return words;

        void Flush()
        {
            if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }
    }

    private void AddWord(string word, List<int> ids)
    {
        var runes = word.EnumerateRunes().Count();
        if (runes > _maxCharsPerWord)
        {
            ids.Add(UnkId);
            return;
        }

        var pieces = new List<int>();
        var start = 0;
        while (start < word.Length)
        {
            var end = word.Length;
            int? found = null;
            while (end > start)
            {
                var piece = word[start..end];
                if (start > 0)
                {
                    piece = _prefix + piece;
                }

                if (_vocab.TryGetValue(piece, out var id))
                {
                    found = id;
                    break;
                }

                end--;
                if (end > start && char.IsLowSurrogate(word[end]))
                {
                    end--;
                }
            }

            if (found is null)
            {
                ids.Add(UnkId);
                return;
            }

            pieces.Add(found.Value);
            start = end;
        }

        ids.AddRange(pieces);
    }

    private static (int[] Before, int[] After) ReadTemplate(JsonElement root, Dictionary<string, int> vocab)
    {
        if (!root.TryGetProperty("post_processor", out var post) || post.ValueKind != JsonValueKind.Object)
        {
            return ([], []);
        }

        switch (String(post, "type"))
        {
            case "BertProcessing":
            case "RobertaProcessing":
                return ([post.GetProperty("cls")[1].GetInt32()], [post.GetProperty("sep")[1].GetInt32()]);
            case "TemplateProcessing":
                var before = new List<int>();
                var after = new List<int>();
                var seenSequence = false;
                var specials = post.TryGetProperty("special_tokens", out var s) ? s : default;
                foreach (var piece in post.GetProperty("single").EnumerateArray())
                {
                    if (piece.TryGetProperty("Sequence", out _))
                    {
                        seenSequence = true;
                    }
                    else if (piece.TryGetProperty("SpecialToken", out var special))
                    {
                        var name = String(special, "id")!;
                        int[] tokenIds = specials.ValueKind == JsonValueKind.Object && specials.TryGetProperty(name, out var entry)
                            ? [.. entry.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())]
                            : [vocab[name]];
                        (seenSequence ? after : before).AddRange(tokenIds);
                    }
                }

                return ([.. before], [.. after]);
            default:
                throw new InvalidDataException($"Unsupported post-processor '{String(post, "type")}' for a WordPiece tokenizer.");
        }
    }

    private static bool IsWhitespace(Rune rune) =>
        rune.Value is '\t' or '\n' or '\r' or ' ' || Rune.GetUnicodeCategory(rune) == UnicodeCategory.SpaceSeparator;

    private static bool IsControl(Rune rune)
    {
        if (rune.Value is '\t' or '\n' or '\r')
        {
            return false;
        }

        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;
    }

    private static bool IsPunctuation(Rune rune)
    {
        var cp = rune.Value;
        if (cp is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126))
        {
            return true;
        }

        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    private static bool IsChinese(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F)
            or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool? Bool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;
}
