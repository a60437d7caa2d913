using Capa.Models.Store;

namespace Capa.Models.Tests.Store;

public sealed class ModelIdTests
{
    [Theory]
    [InlineData("onnx-community/Qwen2.5-0.5B-Instruct")]
    [InlineData("Xenova/whisper-tiny.en")]
    [InlineData("a/b")]
    [InlineData("HuggingFaceTB/SmolLM2-135M-Instruct")]
    public void Hub_ids_are_valid(string id)
    {
        Assert.True(ModelId.IsValid(id, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("name")]
    [InlineData("a/b/c")]
    [InlineData("../b")]
    [InlineData("a/..")]
    [InlineData("a/b..c")]
    [InlineData(".partial/x")]
    [InlineData("a/.b")]
    [InlineData("a/b c")]
    [InlineData("a\\b/c")]
    [InlineData("/b")]
    [InlineData("a/")]
    public void Anything_else_is_refused_with_a_reason(string? id)
    {
        Assert.False(ModelId.IsValid(id, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Theory]
    [InlineData("qwen2-tiny", true)]
    [InlineData("org/name", true)]
    [InlineData("Qwen2.5-0.5B", true)]
    [InlineData(".partial", false)]
    [InlineData("..", false)]
    [InlineData("bad name", false)]
    [InlineData("a/b/c", false)]
    [InlineData("", false)]
    public void Local_ids_are_a_bare_name_or_ORG_NAME(string id, bool valid)
    {
        Assert.Equal(valid, ModelId.IsValidLocal(id, out var error));
        Assert.Equal(valid, error is null);
    }

    [Fact]
    public void Parts_are_at_most_96_characters()
    {
        Assert.True(ModelId.IsValid("a/" + new string('x', 96), out _));
        Assert.False(ModelId.IsValid("a/" + new string('x', 97), out _));
    }

    [Fact]
    public void Split_gives_org_and_name()
    {
        Assert.Equal(("org", "name"), ModelId.Split("org/name"));
        Assert.Throws<ArgumentException>(() => ModelId.Split("bad"));
    }
}
