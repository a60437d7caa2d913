using Capa.Models.Hub;

namespace Capa.Models.Tests.Hub;

public sealed class ModelReferenceTests
{
    [Theory]
    [InlineData("onnx-community/Qwen2.5-0.5B-Instruct", "onnx-community/Qwen2.5-0.5B-Instruct", null)]
    [InlineData("Xenova/whisper-tiny@main", "Xenova/whisper-tiny", "main")]
    [InlineData(" org/name@refs/pr/1 ", "org/name", "refs/pr/1")]
    [InlineData("org/name@0123456789abcdef0123456789abcdef01234567", "org/name", "0123456789abcdef0123456789abcdef01234567")]
    public void Parses_id_and_revision(string text, string id, string? revision)
    {
        Assert.Equal(new ModelReference(id, revision), ModelReference.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("name-only")]
    [InlineData("a/b/c")]
    [InlineData("../x")]
    [InlineData("org/na me")]
    [InlineData("org/name@")]
    [InlineData("org/name@a b")]
    [InlineData("org/name@..")]
    [InlineData("org/name@x@y")]
    public void Refuses_what_is_not_ORG_NAME_at_REV(string text)
    {
        var error = Assert.Throws<HubException>(() => ModelReference.Parse(text));
        Assert.Equal(HubErrorKind.InvalidReference, error.Kind);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }
}
