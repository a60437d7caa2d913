using System.Text.Json;
using Capa.Tokenizers.PostProcessors;

namespace Capa.Tokenizers.Tests.PostProcessors;

public sealed class PostProcessorTests
{
    private static List<int>? Run(string json, params int[] ids)
    {
        using var doc = JsonDocument.Parse(json);
        var processor = PostProcessor.Create(doc.RootElement, t => t switch { "<s>" => 1, "</s>" => 2, _ => null });
        return processor?.Process([.. ids]);
    }

    [Fact]
    public void TemplateProcessing_UsesDeclaredIdsOrLooksTokensUp()
    {
        const string Declared = """{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],"special_tokens":{"<s>":{"id":"<s>","ids":[7],"tokens":["<s>"]}}}""";
        Assert.Equal([7, 5, 6, 2], Run(Declared, 5, 6));
    }

    [Fact]
    public void ByteLevel_AddsNothing_AndSequenceChains()
    {
        Assert.Null(Run("""{"type":"ByteLevel","trim_offsets":false}""", 5));
        const string Seq = """{"type":"Sequence","processors":[{"type":"ByteLevel"},{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}]}]}""";
        Assert.Equal([1, 5], Run(Seq, 5));
    }

    [Fact]
    public void BertProcessing_WrapsInClsSep() =>
        Assert.Equal([101, 5, 102], Run("""{"type":"BertProcessing","cls":["[CLS]",101],"sep":["[SEP]",102]}""", 5));

    [Fact]
    public void UnknownToken_IsAClearError() =>
        Assert.Throws<FormatException>(() => Run("""{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<nope>","type_id":0}}]}"""));
}
