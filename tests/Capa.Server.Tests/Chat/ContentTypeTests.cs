using Capa.Server.Chat;

namespace Capa.Server.Tests.Chat;

public sealed class ContentTypeTests
{
    [Theory]
    [InlineData("application/json", true)]
    [InlineData("application/json; charset=utf-8", true)]
    [InlineData("APPLICATION/JSON; CHARSET=\"UTF-8\"", true)]
    [InlineData("application/json;charset=utf8", true)]
    [InlineData("application/json; charset=iso-8859-1", false)]
    [InlineData("text/json", false)]
    [InlineData("application/json-patch+json", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("garbage;;;", false)]
    public void IsJson(string? contentType, bool expected) => Assert.Equal(expected, ChatCompletionsEndpoint.IsJson(contentType));
}
