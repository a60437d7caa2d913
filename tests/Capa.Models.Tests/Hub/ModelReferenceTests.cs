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
    [InlineData("rhasspy/piper-voices/en_US-lessac-medium", "rhasspy/piper-voices", "en_US-lessac-medium", null)]
    [InlineData("rhasspy/piper-voices/zh_CN-huayan-medium@v1.0.0", "rhasspy/piper-voices", "zh_CN-huayan-medium", "v1.0.0")]
    public void Parses_a_voice_of_a_voice_repository(string text, string id, string voice, string? revision)
    {
        var reference = ModelReference.Parse(text);
        Assert.Equal(new ModelReference(id, revision) { Voice = voice }, reference);
        Assert.Equal(text, reference.ToString());
        Assert.Null(ModelReference.Parse(id).Voice);
    }

    [Theory]
    [InlineData("onnx-community/Qwen2.5-0.5B-Instruct@main", "onnx-community/Qwen2.5-0.5B-Instruct")]
    [InlineData("rhasspy/piper-voices/en_US-lessac-medium@v1.0.0", "rhasspy/en_US-lessac-medium")]
    public void The_store_id_is_the_repository_or_org_and_voice(string text, string storeId)
    {
        Assert.Equal(storeId, ModelReference.Parse(text).StoreId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("name-only")]
    [InlineData("a/b/c/d")]
    [InlineData("a/b/")]
    [InlineData("a/b/c d")]
    [InlineData("a/b/..x")]
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
