using System.Text.Json;

namespace Capa.Protocol.Tests.Chat;

public class ChatToolsTests
{
    [Fact]
    public void Tools_write_function_and_custom_forms()
    {
        var request = Validation.ChatRequestReaderTests.Read("""
            {"model":"m","messages":[{"role":"user","content":"x"}],
             "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}},{"type":"custom","custom":{"name":"c","description":"d"}}],
             "tool_choice":{"type":"custom","custom":{"name":"c"}}}
            """);
        Assert.Equal("c", request.Tools![1].Name);
        Assert.Equal(ToolChoiceMode.Custom, request.ToolChoice!.Mode);
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(request, CapaJsonContext.Default.ChatCompletionRequest));
        JsonAssert.Equal(
            """[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}},{"type":"custom","custom":{"name":"c","description":"d"}}]""",
            document.RootElement.GetProperty("tools").GetRawText());
    }
}
