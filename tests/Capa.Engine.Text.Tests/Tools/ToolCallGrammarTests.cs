using System.Text.Json;
using Capa.Constraints.Grammars;
using Capa.Engine.Text.Constraints;
using Capa.Engine.Text.Tests.Constraints;
using Capa.Engine.Text.Tools;

namespace Capa.Engine.Text.Tests.Tools;

/// <summary>Forced tool calls: random logits through the mask always give calls the parser reads back.</summary>
public sealed class ToolCallGrammarTests
{
    private static readonly SyntheticTokenizer Tokenizer = new();

    internal static ToolDefinition[] Tools()
    {
        using var weather = JsonDocument.Parse("""
            {"type":"object","properties":{"city":{"type":"string","maxLength":6},"unit":{"enum":["celsius","fahrenheit"]}},"required":["city","unit"],"additionalProperties":false}
            """);
        using var time = JsonDocument.Parse("""{"type":"object","properties":{"zone":{"type":"string","enum":["UTC","CET"]}},"required":["zone"],"additionalProperties":false}""");
        return [new ToolDefinition("get_weather", weather.RootElement.Clone()), new ToolDefinition("get_time", time.RootElement.Clone())];
    }

    public static TheoryData<string, bool> Cases => new()
    {
        { "hermes", false },
        { "hermes", true },
        { "llama3-json", false },
        { "llama3-json", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForcedCalls_ParseAndValidate(string formatName, bool parallel)
    {
        var format = formatName == "hermes" ? ToolCallFormat.Hermes : ToolCallFormat.Llama3Json;
        var tools = Tools();
        var compiler = new ConstraintCompiler(ConstraintVocabularies.Build(Tokenizer, [Tokenizer.EosId]));
        var constraint = compiler.ToolCalls(format, tools, parallel, strict: true);
        var names = tools.Select(t => t.Name).ToArray();
        var complete = 0;
        var sawSeveral = false;
        for (var seed = 0; seed < 60; seed++)
        {
            var tokens = ConstraintLogitsProcessorTests.Walk(new ConstraintLogitsProcessor(constraint.CreateState()), Tokenizer.VocabSize, seed, 600, Tokenizer.EosId);
            if (tokens[^1] != Tokenizer.EosId)
            {
                continue;
            }

            complete++;
            var text = Tokenizer.Decode(tokens);
            var result = ToolCallParser.Parse(text, format, names);
            Assert.Null(result.Content);
            Assert.InRange(result.ToolCalls.Count, 1, parallel ? ToolCallFormat.MaxParallelCalls : 1);
            sawSeveral |= result.ToolCalls.Count > 1;
            Assert.All(result.ToolCalls, AssertValidCall);
        }

        Assert.True(complete > 30, $"only {complete} walks completed");
        Assert.Equal(parallel, sawSeveral);
    }

    internal static void AssertValidCall(ParsedToolCall call)
    {
        using var arguments = JsonDocument.Parse(call.Arguments);
        var root = arguments.RootElement;
        if (call.Name == "get_weather")
        {
            Assert.InRange(root.GetProperty("city").GetString()!.Length, 0, 6);
            Assert.Contains(root.GetProperty("unit").GetString(), new[] { "celsius", "fahrenheit" });
            Assert.Equal(2, root.EnumerateObject().Count());
        }
        else
        {
            Assert.Equal("get_time", call.Name);
            Assert.Contains(root.GetProperty("zone").GetString(), new[] { "UTC", "CET" });
            Assert.Single(root.EnumerateObject());
        }
    }

    [Fact]
    public void NamedFunction_IsTheOnlyOneCalled()
    {
        var tools = Tools();
        var compiler = new ConstraintCompiler(ConstraintVocabularies.Build(Tokenizer, [Tokenizer.EosId]));
        var constraint = compiler.ToolCalls(ToolCallFormat.Hermes, [tools[1]], parallel: false);
        for (var seed = 0; seed < 20; seed++)
        {
            var tokens = ConstraintLogitsProcessorTests.Walk(new ConstraintLogitsProcessor(constraint.CreateState()), Tokenizer.VocabSize, seed, 400, Tokenizer.EosId);
            Assert.Equal(Tokenizer.EosId, tokens[^1]);
            var call = Assert.Single(ToolCallParser.Parse(Tokenizer.Decode(tokens), ToolCallFormat.Hermes, ["get_time"]).ToolCalls);
            Assert.Equal("get_time", call.Name);
        }
    }
}
