using System.Text.Json;

namespace Capa.Protocol.Tests.Serialization;

public class ToolChoiceConverterTests
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

    [Theory]
    [InlineData("\"sometimes\"")]
    [InlineData("{}")]
    [InlineData("{\"type\":\"function\"}")]
    [InlineData("{\"type\":\"function\",\"function\":{\"name\":1}}")]
    [InlineData("{\"type\":\"allowed_tools\"}")]
    [InlineData("{\"type\":5}")]
    [InlineData("7")]
    public void Bad_tool_choices_fail_as_json_errors(string choice)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(
            $$"""{"model":"m","messages":[],"tool_choice":{{choice}}}""",
            CapaJsonContext.Default.ChatCompletionRequest));
    }
}
