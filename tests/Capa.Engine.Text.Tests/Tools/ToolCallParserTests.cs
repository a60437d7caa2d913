using System.Text.Json;
using Capa.Engine.Text.Tools;

namespace Capa.Engine.Text.Tests.Tools;

public sealed class ToolCallParserTests
{
    private static readonly string[] Names = ["get_weather", "get_time"];

    [Fact]
    public void Hermes_BlocksBecomeCalls_AndTextStaysContent()
    {
        var text = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>";
        var result = ToolCallParser.Parse(text, ToolCallFormat.Hermes, Names);
        Assert.Equal("Let me check.", result.Content);
        Assert.Equal(["get_weather", "get_time"], result.ToolCalls.Select(c => c.Name));
        Assert.Equal("{\"city\": \"Paris\"}", result.ToolCalls[0].Arguments);
        Assert.Equal("{}", result.ToolCalls[1].Arguments);
        Assert.All(result.ToolCalls, c => Assert.Matches("^call_[A-Za-z0-9]{24}$", c.Id));
        Assert.NotEqual(result.ToolCalls[0].Id, result.ToolCalls[1].Id);
    }

    [Theory]
    [InlineData("<tool_call>\n{\"name\": \"rm_rf\", \"arguments\": {}}\n</tool_call>")] // unknown tool
    [InlineData("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": [1]}\n</tool_call>")] // arguments not an object
    [InlineData("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \n</tool_call>")] // broken JSON
    [InlineData("<tool_call>\n{\"arguments\": {}}\n</tool_call>")] // no name
    [InlineData("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Pa")] // cut off
    public void MalformedBlocks_StayContent(string text)
    {
        var result = ToolCallParser.Parse(text, ToolCallFormat.Hermes, Names);
        Assert.Empty(result.ToolCalls);
        Assert.Equal(text.Trim(), result.Content);
    }

    [Fact]
    public void Hermes_ACloseTagInsideAnArgumentString_DoesNotEndTheBlock()
    {
        var text = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"a</tool_call>b {\\\"x\"}}\n</tool_call> after";
        var result = ToolCallParser.Parse(text, ToolCallFormat.Hermes, ["get_weather"]);
        var call = Assert.Single(result.ToolCalls);
        Assert.Equal("{\"city\": \"a</tool_call>b {\\\"x\"}", call.Arguments);
        Assert.Equal("after", result.Content);

        // An object that never closes falls back to the first close tag: the block is not a call.
        var broken = ToolCallParser.Parse("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"x</tool_call> tail", ToolCallFormat.Hermes, ["get_weather"]);
        Assert.Empty(broken.ToolCalls);
    }

    [Fact]
    public void Hermes_UnclosedFinalBlock_IsACall_AndStringArgumentsAreAccepted()
    {
        var result = ToolCallParser.Parse("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Oslo\\\"}\"}", ToolCallFormat.Hermes, Names);
        var call = Assert.Single(result.ToolCalls);
        Assert.Null(result.Content);
        Assert.Equal("{\"city\": \"Oslo\"}", call.Arguments);
    }

    [Theory]
    [InlineData("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}", 1)]
    [InlineData("<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}", 1)]
    [InlineData("  {\"name\": \"get_weather\", \"parameters\": {}}; {\"name\": \"get_time\", \"parameters\": {}}\n", 2)]
    [InlineData("{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}", 1)]
    public void Llama3_BareJsonCalls(string text, int count)
    {
        var result = ToolCallParser.Parse(text, ToolCallFormat.Llama3Json, Names);
        Assert.Equal(count, result.ToolCalls.Count);
        Assert.Null(result.Content);
        using var doc = JsonDocument.Parse(result.ToolCalls[0].Arguments);
        Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
    }

    [Theory]
    [InlineData("The weather is fine.")]
    [InlineData("{\"city\": \"Rome\"}")]
    [InlineData("{\"name\": \"get_weather\", \"parameters\": {}} and some words")]
    public void Llama3_AnythingElse_IsContent(string text)
    {
        var result = ToolCallParser.Parse(text, ToolCallFormat.Llama3Json, Names);
        Assert.Empty(result.ToolCalls);
        Assert.Equal(text, result.Content);
    }

    [Fact]
    public void Detect_PicksTheTemplatesFormat()
    {
        Assert.Same(ToolCallFormat.Hermes, ToolCallFormat.Detect("{% if tools %}<tool_call>{% endif %}", Capa.Models.Config.ModelFamily.Llama));
        Assert.Same(ToolCallFormat.Llama3Json, ToolCallFormat.Detect("Respond in the format {\"name\": function name, \"parameters\": ...} <|python_tag|>", Capa.Models.Config.ModelFamily.Llama));
        Assert.Same(ToolCallFormat.Hermes, ToolCallFormat.Detect("{{ messages }}", Capa.Models.Config.ModelFamily.Qwen3));
        Assert.Same(ToolCallFormat.Generic, ToolCallFormat.Detect("{{ messages }}", Capa.Models.Config.ModelFamily.Phi3));
    }
}
