using Capa.Tokenizers.Models;

namespace Capa.Tokenizers.Tests.Unigram;

/// <summary>The Unigram model through <see cref="HfTokenizer"/>, on a fixture whose scores are chosen by hand.</summary>
public sealed class UnigramTokenizerTests
{
    private static readonly HfTokenizer Tokenizer = HfTokenizer.FromJson(UnigramFixture.Json(), UnigramFixture.Config());

    private static int[] Ids(params string[] pieces) => [.. pieces.Select(UnigramFixture.Id)];

    [Fact]
    public void Viterbi_takes_the_highest_scoring_segmentation_not_the_longest_match()
    {
        // ▁world alone scores -12; ▁wor + ld scores -11.
        Assert.Equal(Ids("▁wor", "ld"), Tokenizer.Encode("world"));

        // ▁hello (-8.9) beats ▁hell + o (-9.0).
        Assert.Equal(Ids("▁hello"), Tokenizer.Encode("hello"));
        Assert.Equal(Ids("▁hello", "▁wor", "ld", "!"), Tokenizer.Encode("hello world!"));
    }

    [Fact]
    public void Special_tokens_wrap_the_sequence_and_are_read_in_text()
    {
        Assert.Equal([0, .. Ids("▁hello"), 2], Tokenizer.Encode("hello", addSpecialTokens: true));
        Assert.Equal([0, 2], Tokenizer.Encode(string.Empty, addSpecialTokens: true));
        Assert.Equal(2, Tokenizer.SpecialTokenCount);
        Assert.Equal([.. Ids("▁hello"), 2, .. Ids("▁is")], Tokenizer.Encode("hello</s>is"));
    }

    [Fact]
    public void Unknown_characters_fuse_into_one_unknown_id_per_run()
    {
        Assert.Equal([.. Ids("▁h"), UnigramFixture.Unk, .. Ids("e")], Tokenizer.Encode("h😀😀e"));
        Assert.Equal([.. Ids("▁"), UnigramFixture.Unk, .. Ids("▁"), UnigramFixture.Unk], Tokenizer.Encode("😀 ✓"));
    }

    [Fact]
    public void Byte_fallback_spells_unknown_characters_as_their_utf8_bytes()
    {
        var pieces = UnigramFixture.Pieces.ToList();
        foreach (var b in new byte[] { 0xF0, 0x9F, 0x98, 0x80 })
        {
            pieces.Add((BpeModel.ByteTokenName(b), -10));
        }

        var model = UnigramModel.Create(pieces, UnigramFixture.Unk, byteFallback: true);
        var ids = new List<int>();
        model.Encode("h😀", ids);
        int First(string piece) => pieces.FindIndex(p => p.Piece == piece);
        Assert.Equal([First("h"), First("<0xF0>"), First("<0x9F>"), First("<0x98>"), First("<0x80>")], ids);

        // A character whose bytes are not all pieces stays unknown.
        ids.Clear();
        model.Encode("✓", ids);
        Assert.Equal([UnigramFixture.Unk], ids);
    }

    [Fact]
    public void Precompiled_normalizes_nfkc_spaces_and_controls_as_nmt_nfkc()
    {
        // Fullwidth letters fold to ASCII, a tab and a no-break space become spaces (then one), a control character goes.
        Assert.Equal(Tokenizer.Encode("hello world"), Tokenizer.Encode("ｈｅｌｌｏ\t\u00A0world\u0007"));

        // The fullwidth tilde stays itself (unknown here), the ASCII tilde is a piece; é composes.
        Assert.Equal([.. Ids("▁"), UnigramFixture.Unk], Tokenizer.Encode("\uFF5E"));
        Assert.Equal(Ids("▁", "~"), Tokenizer.Encode("~"));
        Assert.Equal(Ids("▁caf", "é"), Tokenizer.Encode("cafe\u0301"));
    }

    [Fact]
    public void Decoding_restores_the_spaces()
    {
        Assert.Equal("hello world!", Tokenizer.Decode(Tokenizer.Encode("hello  world!", addSpecialTokens: true), skipSpecialTokens: true));
    }

    [Fact]
    public void A_bounded_encode_stops_past_the_limit_and_otherwise_equals_the_whole_encode()
    {
        var text = string.Join(' ', Enumerable.Repeat("hello world", 5000));
        var whole = Tokenizer.Encode(text, addSpecialTokens: true);
        var exact = Tokenizer.Encode(text, true, whole.Length, out bool complete);
        Assert.True(complete);
        Assert.Equal(whole, exact);

        long before = Tokenizer.EncodedChars;
        var cut = Tokenizer.Encode(text, true, 10, out complete);
        Assert.False(complete);
        Assert.True(cut.Length > 10 && cut.Length < 20, $"{cut.Length} ids");
        Assert.Equal(whole[..(cut.Length - 1)], cut[..^1]);
        Assert.True(Tokenizer.EncodedChars - before == text.Length);
    }

    [Fact]
    public void Malformed_models_are_clear_errors()
    {
        Assert.Throws<FormatException>(() => HfTokenizer.FromJson("""{"model":{"type":"Unigram","unk_id":0,"vocab":[["a"]]}}"""));
        Assert.Throws<FormatException>(() => HfTokenizer.FromJson("""{"model":{"type":"Unigram","unk_id":5,"vocab":[["a",-1.0]]}}"""));
        Assert.Throws<FormatException>(() => HfTokenizer.FromJson("""{"model":{"type":"Unigram","unk_id":0,"vocab":{"a":0}}}"""));
    }
}
