using System.Text;

namespace Capa.Protocol.Tests.Validation;

public sealed class JsonModeRuleTests
{
    private static bool TryRead(string json, out ApiError? error) =>
        ChatRequestReader.TryRead(Encoding.UTF8.GetBytes(json), out _, out error);

    [Theory]
    [InlineData("""[{"role":"user","content":"Score this sentence."}]""")]
    [InlineData("""[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"js on"}]}]""")]
    public void JsonObject_WithoutTheWord_IsOpenAIs400(string messages)
    {
        Assert.False(TryRead($$"""{"model":"m","response_format":{"type":"json_object"},"messages":{{messages}}}""", out var error));
        Assert.Equal(400, error!.Status);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.Equal("messages", error.Param);
        Assert.Equal("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", error.Message);
    }

    [Theory]
    [InlineData("""[{"role":"system","content":"You output JSON."},{"role":"user","content":"hi"}]""")]
    [InlineData("""[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"reply as JsOn"}]}]""")]
    [InlineData("""[{"role":"user","content":"x"},{"role":"assistant","content":"{\"json\":1}"}]""")]
    public void JsonObject_MentioningJsonInAnyCase_IsAccepted(string messages)
    {
        Assert.True(TryRead($$"""{"model":"m","response_format":{"type":"json_object"},"messages":{{messages}}}""", out var error), error?.Message);
    }

    [Theory]
    [InlineData("""{"type":"text"}""")]
    [InlineData("""{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}""")]
    public void OtherFormats_NeedNoMention(string format)
    {
        Assert.True(TryRead($$"""{"model":"m","response_format":{{format}},"messages":[{"role":"user","content":"hi"}]}""", out var error), error?.Message);
    }
}
