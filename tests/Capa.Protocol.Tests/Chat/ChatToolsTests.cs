using System.Text.Json;

namespace Capa.Protocol.Tests.Chat;

public class ChatToolsTests
{
    private static string WriteChoice(ToolChoice choice)
    {
        var request = new ChatCompletionRequest { Model = "m", Messages = [], ToolChoice = choice };
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(request, CapaJsonContext.Default.ChatCompletionRequest));
        return document.RootElement.GetProperty("tool_choice").GetRawText();
    }

    [Fact]
    public void Tool_choice_modes_write_as_openai_sends_them()
    {
        Assert.Equal("\"none\"", WriteChoice(ToolChoice.None));
        Assert.Equal("\"auto\"", WriteChoice(ToolChoice.Auto));
        Assert.Equal("\"required\"", WriteChoice(ToolChoice.Required));
        JsonAssert.Equal("""{"type":"function","function":{"name":"f"}}""", WriteChoice(ToolChoice.ForFunction("f")));
        JsonAssert.Equal("""{"type":"custom","custom":{"name":"g"}}""", WriteChoice(new ToolChoice { Mode = ToolChoiceMode.Custom, Name = "g" }));
    }

    [Fact]
    public void Tool_choices_read_back()
    {
        var request = Validation.ChatRequestReaderTests.Read("""
            {"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],
             "tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"f"}}]}}}
            """);
        var written = WriteChoice(request.ToolChoice!);
        JsonAssert.Equal("""{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"f"}}]}}""", written);

        var parsed = JsonSerializer.Deserialize(
            """{"model":"m","messages":[],"tool_choice":{"type":"function","function":{"name":"f"}}}""",
            CapaJsonContext.Default.ChatCompletionRequest)!;
        Assert.Equal(ToolChoiceMode.Function, parsed.ToolChoice!.Mode);
        Assert.Equal("f", parsed.ToolChoice.Name);
    }

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
