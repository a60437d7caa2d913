using System.Text;

namespace Capa.Tokenizers.Tests;

/// <summary>The real Qwen3 tokenizer files from ../shared/reference.</summary>
public sealed class Qwen3ReferenceTests
{
    private static readonly Lazy<HfTokenizer> Slow = new(() => HfTokenizer.FromFolder(TestPaths.Qwen3Dir));

    [Qwen3Fact]
    public void LoadsFromVocabAndMerges()
    {
        var t = Slow.Value;
        Assert.Equal(151670, t.VocabSize);
        Assert.Equal(new SpecialToken("<|im_end|>", 151645), t.EosToken);
        Assert.Equal(new SpecialToken("<|PAD_TOKEN|>", 151669), t.PadToken);
        Assert.Null(t.BosToken);
        Assert.True(t.IsSpecial(151644));
        Assert.False(t.IsSpecial(151657)); // <tool_call> is added but not special
        Assert.Equal("<tool_call>"u8.ToArray(), t.GetTokenBytes(151657).ToArray());
        Assert.True(t.GetTokenBytes(151645).IsEmpty);
    }

    [Qwen3Fact]
    public void TokenizerJsonForm_EncodesLikeTheSlowFiles()
    {
        string json = SlowTokenizerConverter.ConvertFolder(TestPaths.Qwen3Dir);
        var fromJson = HfTokenizer.FromJson(json, File.ReadAllText(Path.Combine(TestPaths.Qwen3Dir, "tokenizer_config.json")));
        const string Text = "<|im_start|>user\n谁获得了2022年英雄联盟S赛世界冠军？<|im_end|>\n";
        Assert.Equal(Slow.Value.Encode(Text), fromJson.Encode(Text));
    }

    [Qwen3Fact]
    public void SpecialTokensInText_AreSingleIds()
    {
        int[] ids = Slow.Value.Encode("<|im_start|>user\nhi<|im_end|>");
        Assert.Equal(151644, ids[0]);
        Assert.Equal(151645, ids[^1]);
        Assert.Equal("user\nhi", Slow.Value.Decode(ids, skipSpecialTokens: true));
    }

    [Qwen3Fact]
    public void RoundTripsAndStreams()
    {
        var t = Slow.Value;
        const string Text = "谁获得了2022年英雄联盟S赛世界冠军？ 👨‍👩‍👧‍👦 🇨🇳 can't\r\n\tcode();";
        int[] ids = t.Encode(Text);
        Assert.Equal(Text, t.Decode(ids));

        var detokenizer = t.CreateStreamingDetokenizer();
        var pieces = ids.Select(detokenizer.Append).Append(detokenizer.Flush()).ToList();
        Assert.Equal(Text, string.Concat(pieces));
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD', StringComparison.Ordinal));

        var bytes = ids.SelectMany(id => t.GetTokenBytes(id).ToArray()).ToArray();
        Assert.Equal(Text, Encoding.UTF8.GetString(bytes));
    }
}
