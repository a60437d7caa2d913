using System.Text;
using Decoder = Capa.Tokenizers.Decoders.Decoder;
using System.Text.Json;
using Capa.Tokenizers.Decoders;
using Capa.Tokenizers.Models;
using Capa.Tokenizers.Normalization;
using Capa.Tokenizers.PostProcessors;
using Capa.Tokenizers.PreTokenizers;
using Capa.Tokenizers.Text;

namespace Capa.Tokenizers;

/// <summary>
/// A Hugging Face tokenizer built from the components its tokenizer.json declares (normalizer, pre-tokenizer,
/// BPE or Unigram model, post-processor, decoder, added tokens), giving the same ids and text as the reference
/// implementation: byte-level BPE (GPT-2, Qwen2/2.5/3, Llama 3, SmolLM2), SentencePiece-style BPE with byte
/// fallback (Llama 2, Phi-3, Gemma) and SentencePiece Unigram (XLM-RoBERTa, multilingual-e5, bge-m3). Instances are
/// immutable and safe to share between threads.
/// </summary>
public sealed class HfTokenizer : IEncoderTokenizer
{
    // Ids index dense arrays; a corrupt file naming id 2^31 must fail clearly rather than exhaust memory.
    private const int MaxVocabSize = 16_000_000;

    private readonly Normalizer? _normalizer;
    private readonly PreTokenizer? _preTokenizer;
    private readonly TokenizerModel _model;
    private readonly PostProcessor? _postProcessor;
    private readonly Decoder? _decoder;
    private readonly AddedTokenMatcher _rawMatcher;
    private readonly AddedTokenMatcher _normalizedMatcher;
    private readonly Dictionary<string, int> _addedByContent;
    private readonly string?[] _idToToken;
    private readonly bool[] _isSpecial;
    private readonly bool[] _isAdded;
    private readonly bool _cleanUpTokenizationSpaces;
    private readonly Lazy<(byte[] Bytes, int[] Offsets)> _tokenBytes;
    private readonly double? _charsPerToken;
    private readonly bool _dropsWhitespace;
    private long _encodedChars;

    private HfTokenizer(JsonElement tokenizer, JsonElement config)
    {
        _normalizer = Normalizer.Create(tokenizer.Get("normalizer"));
        _preTokenizer = PreTokenizer.Create(tokenizer.Get("pre_tokenizer"));
        var modelElement = tokenizer.Get("model");
        if (modelElement.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("tokenizer.json has no \"model\" object.");
        }

        _model = TokenizerModel.FromConfig(modelElement);
        _decoder = Decoder.Create(tokenizer.Get("decoder"));

        var added = ReadAddedTokens(tokenizer.Get("added_tokens"));
        _addedByContent = new Dictionary<string, int>(StringComparer.Ordinal);
        int maxId = -1;
        foreach (int id in _model.Vocab.Values)
        {
            maxId = Math.Max(maxId, id);
        }

        foreach (var token in added)
        {
            maxId = Math.Max(maxId, token.Id);
            _addedByContent[token.Content] = token.Id;
        }

        if (maxId >= MaxVocabSize)
        {
            throw new FormatException($"tokenizer.json uses id {maxId}; ids above {MaxVocabSize - 1} are not supported.");
        }

        VocabSize = maxId + 1;
        _idToToken = new string?[VocabSize];
        _isSpecial = new bool[VocabSize];
        _isAdded = new bool[VocabSize];
        foreach (var (token, id) in _model.Vocab)
        {
            if (id < 0)
            {
                throw new FormatException($"tokenizer.json gives \"{token}\" the negative id {id}.");
            }

            _idToToken[id] = token;
        }

        foreach (var token in added)
        {
            _idToToken[token.Id] = token.Content;
            _isAdded[token.Id] = true;
            _isSpecial[token.Id] = token.Special;
        }

        _rawMatcher = new AddedTokenMatcher(added.Where(t => !t.Normalized || _normalizer is null));
        _normalizedMatcher = new AddedTokenMatcher(added
            .Where(t => t.Normalized && _normalizer is not null)
            .Select(t => t with { Content = _normalizer!.Normalize(t.Content) }));
        _postProcessor = PostProcessor.Create(tokenizer.Get("post_processor"), TokenToId);

        BosToken = ReadSpecial(config, "bos_token");
        EosToken = ReadSpecial(config, "eos_token");
        PadToken = ReadSpecial(config, "pad_token");
        UnkToken = ReadSpecial(config, "unk_token")
            ?? (_model.UnkToken is { } unk ? new SpecialToken(unk, TokenToId(unk)) : null);
        _cleanUpTokenizationSpaces = config.GetBool("clean_up_tokenization_spaces", false);
        SpecialTokens = [.. added.Where(t => t.Special).Select(t => t.Content).Distinct(StringComparer.Ordinal)];
        (_charsPerToken, _dropsWhitespace) = LengthPerToken(added);
        _tokenBytes = new Lazy<(byte[], int[])>(BuildTokenBytes);
        var shape = default(StreamShape);
        bool fusedShape = false;
        _decoder?.DescribeStream(ref shape, ref fusedShape);
        StreamShape = shape;
        SpecialTokenCount = _postProcessor?.Process([]).Count ?? 0;
    }

    /// <summary>The ids the post-processor adds around one sequence (e.g. &lt;s&gt; before and &lt;/s&gt; after).</summary>
    public int SpecialTokenCount { get; }

    /// <summary>The number of ids: the highest id in the vocabulary or added tokens, plus one.</summary>
    public int VocabSize { get; }

    /// <summary>The contents of the added tokens marked special (control tokens such as &lt;|im_end|&gt;).</summary>
    public IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>
    /// The most UTF-16 units of input text one id can stand for, where that is bounded for all text (whitespace
    /// included); null otherwise. Text longer than this times a token budget provably needs more tokens than the budget.
    /// </summary>
    public double? MaxCharsPerToken => _dropsWhitespace ? null : _charsPerToken;

    /// <summary>UTF-16 units of text this instance has been asked to encode: a measure of the work done.</summary>
    public long EncodedChars => Interlocked.Read(ref _encodedChars);

    /// <summary>tokenizer_config.json's bos_token, when it names one.</summary>
    public SpecialToken? BosToken { get; }

    /// <summary>tokenizer_config.json's eos_token, when it names one.</summary>
    public SpecialToken? EosToken { get; }

    /// <summary>tokenizer_config.json's pad_token, when it names one.</summary>
    public SpecialToken? PadToken { get; }

    /// <summary>tokenizer_config.json's unk_token, or else the model's unknown token.</summary>
    public SpecialToken? UnkToken { get; }

    /// <summary>
    /// Loads the tokenizer in <paramref name="directory"/>: tokenizer.json (+ tokenizer_config.json when present),
    /// or, without tokenizer.json, the equivalent built from vocab.json, merges.txt and the added tokens.
    /// </summary>
    /// <exception cref="FileNotFoundException">The folder holds neither form.</exception>
    /// <exception cref="FormatException">A file is malformed.</exception>
    /// <exception cref="NotSupportedException">A declared component is not implemented.</exception>
    public static HfTokenizer FromFolder(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Tokenizer folder '{directory}' does not exist.");
        }

        string configPath = Path.Combine(directory, "tokenizer_config.json");
        string? config = File.Exists(configPath) ? File.ReadAllText(configPath) : null;
        string tokenizerPath = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(tokenizerPath))
        {
            return FromJson(File.ReadAllText(tokenizerPath), config);
        }

        if (File.Exists(Path.Combine(directory, "vocab.json")) && File.Exists(Path.Combine(directory, "merges.txt")))
        {
            return FromJson(SlowTokenizerConverter.ConvertFolder(directory), config);
        }

        throw new FileNotFoundException($"Tokenizer folder '{directory}' has no tokenizer.json, nor vocab.json with merges.txt.", tokenizerPath);
    }

    /// <summary>Builds a tokenizer from tokenizer.json text and, optionally, tokenizer_config.json text.</summary>
    /// <exception cref="FormatException">The JSON is malformed or inconsistent.</exception>
    /// <exception cref="NotSupportedException">A declared component is not implemented.</exception>
    public static HfTokenizer FromJson(string tokenizerJson, string? tokenizerConfigJson = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        try
        {
            using var tokenizer = JsonDocument.Parse(tokenizerJson, new JsonDocumentOptions { MaxDepth = 256 });
            using var config = JsonDocument.Parse(string.IsNullOrWhiteSpace(tokenizerConfigJson) ? "{}" : tokenizerConfigJson);
            if (tokenizer.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("tokenizer.json must hold a JSON object.");
            }

            return new HfTokenizer(tokenizer.RootElement, config.RootElement);
        }
        catch (JsonException e)
        {
            throw new FormatException($"Tokenizer JSON is malformed: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new FormatException($"Tokenizer JSON has a value of the wrong type: {e.Message}", e);
        }
    }

    /// <summary>
    /// Encodes <paramref name="text"/>. Added and special tokens written in the text become their single ids;
    /// <paramref name="addSpecialTokens"/> applies the post-processor (for example Llama 3's BOS).
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens = false) => Encode(text, null, addSpecialTokens);

    /// <summary>
    /// Encodes <paramref name="text"/>, where a special token that would cover one of <paramref name="plainPositions"/>
    /// (ascending; typically where message text wrote it, see <c>ChatTemplate.RenderMarked</c>) is read as plain text.
    /// Other special tokens, and added tokens that are not special, become their ids as in <see cref="Encode(string, bool)"/>.
    /// </summary>
    public int[] Encode(string text, IReadOnlyList<int>? plainPositions, bool addSpecialTokens = false) =>
        Encode(text, plainPositions, addSpecialTokens, int.MaxValue, out _);

    /// <summary>
    /// Encodes <paramref name="text"/>, stopping as soon as the ids (with the special tokens
    /// <paramref name="addSpecialTokens"/> adds) number more than <paramref name="maxTokens"/>: then
    /// <paramref name="complete"/> is false and the ids are those of the text read so far, more than
    /// <paramref name="maxTokens"/>. The model's work and the ids kept stay in proportion to the limit; normalization
    /// still reads each stretch of text between added tokens whole.
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens, int maxTokens, out bool complete) =>
        Encode(text, null, addSpecialTokens, maxTokens, out complete);

    private int[] Encode(string text, IReadOnlyList<int>? plainPositions, bool addSpecialTokens, int maxTokens, out bool complete)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        Interlocked.Add(ref _encodedChars, text.Length);
        var ids = new List<int>((int)Math.Min(text.Length / 3L + 4, maxTokens + 8L));
        long limit = addSpecialTokens ? (long)maxTokens - SpecialTokenCount : maxTokens;
        complete = EncodeSections(text, plainPositions, ids, limit);
        if (addSpecialTokens && _postProcessor is not null)
        {
            ids = _postProcessor.Process(ids);
        }

        return [.. ids];
    }

    // Adds the ids of the text's sections; false as soon as they number more than limit.
    private bool EncodeSections(string text, IReadOnlyList<int>? plainPositions, List<int> ids, long limit)
    {
        foreach (var (start, end, token) in _rawMatcher.Split(text, plainPositions))
        {
            if (token is not null)
            {
                ids.Add(token.Id);
                if (ids.Count > limit)
                {
                    return false;
                }

                continue;
            }

            string section = text[start..end];
            if (_normalizer is not null)
            {
                section = _normalizer.Normalize(section);
            }

            if (section.Length == 0)
            {
                continue;
            }

            // Positions do not survive normalization: a section holding marked text matches no normalized special token.
            var subsections = _normalizedMatcher.Split(section, plainPositions is { Count: > 0 } && AddedTokenMatcher.Covers(plainPositions, start, end) ? AllPositions : null);
            for (int i = 0; i < subsections.Count; i++)
            {
                var (subStart, subEnd, subToken) = subsections[i];
                if (subToken is not null)
                {
                    ids.Add(subToken.Id);
                    if (ids.Count > limit)
                    {
                        return false;
                    }

                    continue;
                }

                string piece = subStart == 0 && subEnd == section.Length ? section : section[subStart..subEnd];
                bool atTextStart = start == 0 && subStart == 0;
                if (_preTokenizer is null)
                {
                    _model.Encode(piece, ids);
                    if (ids.Count > limit)
                    {
                        return false;
                    }

                    continue;
                }

                foreach (string word in _preTokenizer.PreTokenize([piece], atTextStart))
                {
                    _model.Encode(word, ids);
                    if (ids.Count > limit)
                    {
                        return false;
                    }
                }
            }
        }

        return true;
    }

    // A list that covers every position of any range.
    private static readonly IReadOnlyList<int> AllPositions = new EveryPosition();

    /// <summary>
    /// A lower bound on the number of ids <see cref="Encode(string, IReadOnlyList{int}?, bool)"/> gives for
    /// <paramref name="text"/>, found in one pass without encoding: no id stands for more input than the longest
    /// vocabulary or added token after the normalizer's greatest shrinkage (whitespace not counted where a stage can
    /// drop it: a Strip normalizer, a whitespace split, an added token that strips its neighbours). 0 when the
    /// tokenizer's stages can shrink text without bound.
    /// </summary>
    public long MinimumTokenCount(ReadOnlySpan<char> text)
    {
        if (_charsPerToken is not { } perToken)
        {
            return 0;
        }

        long counted = text.Length;
        if (_dropsWhitespace)
        {
            counted = 0;
            foreach (char c in text)
            {
                if (!char.IsWhiteSpace(c))
                {
                    counted++;
                }
            }
        }

        return (long)Math.Ceiling(counted / perToken);
    }

    // The input text one id can stand for: the longest token (a byte-level token's characters are bytes, never fewer
    // than the UTF-16 units they encode; an unknown character or byte fallback stands for at most a surrogate pair),
    // times how much the normalizer can shrink text. Unknown characters fused into one id are unbounded.
    private (double? PerToken, bool DropsWhitespace) LengthPerToken(List<AddedToken> added)
    {
        if (_model.FusesUnknownRuns)
        {
            return (null, false);
        }

        var longest = 2;
        foreach (string token in _model.Vocab.Keys)
        {
            longest = Math.Max(longest, token.Length);
        }

        foreach (var token in added)
        {
            longest = Math.Max(longest, token.Content.Length);
        }

        var strips = added.Any(t => t.LStrip || t.RStrip) ? new LengthBound(1, DropsWhitespace: true) : LengthBound.Exact;
        return LengthBound.Combine([_normalizer is null ? LengthBound.Exact : _normalizer.Bound, _preTokenizer is null ? LengthBound.Exact : _preTokenizer.Bound, strips]) is { } bound
            ? (longest * bound.Shrink, bound.DropsWhitespace)
            : (null, false);
    }

    /// <summary>Decodes ids to text as the reference decode does; ids outside the vocabulary are ignored.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false) =>
        Decode(ids, skipSpecialTokens, _cleanUpTokenizationSpaces);

    /// <summary>The exact UTF-8 bytes token <paramref name="id"/> adds to decoded text in the middle of a sequence (empty for special tokens).</summary>
    public ReadOnlyMemory<byte> GetTokenBytes(int id)
    {
        if ((uint)id >= (uint)VocabSize)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        var (bytes, offsets) = _tokenBytes.Value;
        return bytes.AsMemory(offsets[id], offsets[id + 1] - offsets[id]);
    }

    /// <summary>Whether <paramref name="id"/> is an added token marked special (control tokens such as &lt;|im_end|&gt;).</summary>
    public bool IsSpecial(int id) => (uint)id < (uint)VocabSize && _isSpecial[id];

    /// <summary>The id of a token string (added tokens first), or null.</summary>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_addedByContent.TryGetValue(token, out int added))
        {
            return added;
        }

        return _model.Vocab.TryGetValue(token, out int id) ? id : null;
    }

    /// <summary>The token string of <paramref name="id"/> as the vocabulary spells it, or null.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)VocabSize ? _idToToken[id] : null;

    /// <summary>Starts an incremental decoder for generated ids.</summary>
    public StreamingDetokenizer CreateStreamingDetokenizer(bool skipSpecialTokens = true) => new(this, skipSpecialTokens);

    internal bool CleanUpTokenizationSpaces => _cleanUpTokenizationSpaces;

    /// <summary>What the decoder does beyond per-token pieces, for <see cref="StreamingDetokenizer"/>.</summary>
    internal StreamShape StreamShape { get; }

    /// <summary>Whether the tokenizer has no decoder: decoded tokens are then joined with single spaces.</summary>
    internal bool JoinsWithSpaces => _decoder is null;

    /// <summary>
    /// What token <paramref name="id"/> adds to a streamed decode: nothing when it is skipped (unknown, or special and
    /// skipped), else its bytes and how they join the text before them. Allocation-free except for special tokens kept
    /// and the first token under a first-token rule, whose pieces are not in the table of <see cref="GetTokenBytes"/>.
    /// </summary>
    internal StreamPiece GetStreamPiece(int id, bool skipSpecialTokens, bool first)
    {
        if ((uint)id >= (uint)VocabSize || _idToToken[id] is not { } token || (skipSpecialTokens && _isSpecial[id]))
        {
            return default;
        }

        var shape = StreamShape;
        var kind = shape.ByteFallback && ByteFallbackDecoder.TryParseByteToken(token, out _) ? StreamPieceKind.FallbackByte
            : shape.ByteLevel && !_isAdded[id] ? StreamPieceKind.Utf8Bytes
            : StreamPieceKind.Text;
        if (!_isSpecial[id] && !(first && shape.FirstTokenRule))
        {
            return new StreamPiece(kind, GetTokenBytes(id));
        }

        var piece = new TokenPiece { Text = token, IsAdded = _isAdded[id] };
        bool fused = false;
        if (first)
        {
            _decoder?.FirstBytes(ref piece, ref fused);
        }
        else
        {
            _decoder?.MiddleBytes(ref piece, ref fused);
        }

        return new StreamPiece(kind, piece.Bytes ?? Encoding.UTF8.GetBytes(piece.Text ?? string.Empty));
    }

    internal string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens, bool cleanUp)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)VocabSize || _idToToken[id] is not { } token || (skipSpecialTokens && _isSpecial[id]))
            {
                continue;
            }

            tokens.Add(token);
        }

        string text = _decoder is null ? string.Join(' ', tokens) : string.Concat(_decoder.DecodeChain(tokens, _addedByContent.ContainsKey));
        return cleanUp ? CleanUp(text) : text;
    }

    /// <summary>What the reference's clean_up_tokenization replaces, in its order (each pattern with what it becomes).</summary>
    private static readonly (string Pattern, string Replacement)[] CleanUpRules =
    [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"),
        (" n't", "n't"), (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ];

    /// <summary>The patterns clean-up replaces (a stream holds back a tail that may still become one).</summary>
    internal static readonly string[] CleanUpPatterns = [.. CleanUpRules.Select(r => r.Pattern)];

    /// <summary>The reference's clean_up_tokenization: drops the space before punctuation and English contractions.</summary>
    internal static string CleanUp(string text)
    {
        foreach (var (pattern, replacement) in CleanUpRules)
        {
            text = text.Replace(pattern, replacement, StringComparison.Ordinal);
        }

        return text;
    }

    /// <summary>
    /// <see cref="CleanUp(string)"/> in place, without allocating: every rule only removes characters, so each pass
    /// writes behind where it reads. Returns the new length.
    /// </summary>
    internal static int CleanUp(Span<char> text)
    {
        int length = text.Length;
        foreach (var (pattern, replacement) in CleanUpRules)
        {
            if (text[..length].IndexOf(pattern, StringComparison.Ordinal) < 0)
            {
                continue;
            }

            // string.Replace's order: left to right, matches do not overlap.
            int write = 0;
            int read = 0;
            while (read < length)
            {
                if (text[read..length].StartsWith(pattern, StringComparison.Ordinal))
                {
                    replacement.AsSpan().CopyTo(text[write..]);
                    write += replacement.Length;
                    read += pattern.Length;
                }
                else
                {
                    text[write++] = text[read++];
                }
            }

            length = write;
        }

        return length;
    }

    private (byte[] Bytes, int[] Offsets) BuildTokenBytes()
    {
        var all = new List<byte>(VocabSize * 6);
        var offsets = new int[VocabSize + 1];
        for (int id = 0; id < VocabSize; id++)
        {
            offsets[id] = all.Count;
            if (_idToToken[id] is not { } token || _isSpecial[id])
            {
                continue;
            }

            var piece = new TokenPiece { Text = token, IsAdded = _isAdded[id] };
            bool fused = false;
            _decoder?.MiddleBytes(ref piece, ref fused);
            all.AddRange(piece.Bytes ?? Encoding.UTF8.GetBytes(piece.Text ?? string.Empty));
        }

        offsets[VocabSize] = all.Count;
        return ([.. all], offsets);
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement element)
    {
        var list = new List<AddedToken>();
        if (element.IsNullOrMissing())
        {
            return list;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("tokenizer.json \"added_tokens\" must be an array.");
        }

        foreach (var item in element.EnumerateArray())
        {
            string content = item.GetString("content") ?? throw new FormatException("Every added token needs \"content\".");
            int id = item.GetInt("id", -1);
            if (id < 0)
            {
                throw new FormatException($"Added token \"{content}\" needs a non-negative \"id\".");
            }

            bool special = item.GetBool("special", false);
            list.Add(new AddedToken(id, content)
            {
                Special = special,
                LStrip = item.GetBool("lstrip", false),
                RStrip = item.GetBool("rstrip", false),
                SingleWord = item.GetBool("single_word", false),
                Normalized = item.GetBool("normalized", !special),
            });
        }

        return list;
    }

    private SpecialToken? ReadSpecial(JsonElement config, string name)
    {
        var value = config.Get(name);
        string? content = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object => value.GetString("content"),
            _ => null,
        };
        return content is null ? null : new SpecialToken(content, TokenToId(content));
    }
}

/// <summary>How a token's bytes join a streamed decode.</summary>
internal enum StreamPieceKind
{
    /// <summary>The token adds nothing (unknown id, or a special token skipped).</summary>
    Skip,

    /// <summary>Whole text: whatever incomplete bytes came before it are final (U+FFFD).</summary>
    Text,

    /// <summary>Byte-level bytes that continue the UTF-8 stream of the tokens before.</summary>
    Utf8Bytes,

    /// <summary>One "&lt;0xAB&gt;" byte of a byte-fallback run, decoded strictly.</summary>
    FallbackByte,
}

/// <summary>What one token adds to a streamed decode.</summary>
internal readonly record struct StreamPiece(StreamPieceKind Kind, ReadOnlyMemory<byte> Bytes);

/// <summary>The ascending list 0, 1, 2, … int.MaxValue - 1, without storage.</summary>
file sealed class EveryPosition : IReadOnlyList<int>
{
    public int this[int index] => index;

    public int Count => int.MaxValue;

    public IEnumerator<int> GetEnumerator() => Enumerable.Range(0, int.MaxValue).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
