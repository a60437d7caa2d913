namespace Capa.Protocol.Tests.Validation;

public class ChatRequestLimitsTests
{
    [Fact]
    public void Defaults_follow_openai_limits()
    {
        var limits = ChatRequestLimits.Default;
        Assert.Equal(64, limits.MaxDepth);
        Assert.Equal(128, limits.MaxTools);
        Assert.Equal(10 * 1024 * 1024, limits.MaxStringLength);
        Assert.True(limits.MaxBodyBytes >= limits.MaxStringLength);
    }

    [Fact]
    public void Limits_are_configurable_per_call()
    {
        var strict = ChatRequestLimits.Default with { MaxContentParts = 1 };
        var error = ChatRequestReaderTests.Reject(
            """{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}""", strict);
        Assert.Equal("messages[0].content", error.Param);
        Assert.Equal("array_above_max_length", error.Code);

        var shallow = ChatRequestLimits.Default with { MaxDepth = 4 };
        error = ChatRequestReaderTests.Reject("""{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]}""", shallow);
        Assert.Contains("deeper than the maximum of 4", error.Message, StringComparison.Ordinal);
    }
}
