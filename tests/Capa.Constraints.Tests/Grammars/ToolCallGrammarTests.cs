using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Capa.Constraints.Grammars;
using Capa.Constraints.Runtime;
using Capa.Constraints.Schema;
using Capa.Constraints.Vocabulary;
using NJsonSchema;

namespace Capa.Constraints.Tests.Grammars;

public sealed partial class ToolCallGrammarTests
{
    private static readonly Dictionary<string, string> Tools = new()
    {
        ["get_weather"] = """{"type":"object","properties":{"location":{"type":"string"},"unit":{"enum":["celsius","fahrenheit"]}},"required":["location","unit"],"additionalProperties":false}""",
        ["search"] = """{"type":"object","properties":{"query":{"type":"string","minLength":1},"limit":{"type":"integer","minimum":1,"maximum":20}},"required":["query"],"additionalProperties":false}""",
        ["search_web"] = """{"type":"object","properties":{"q":{"type":"string"}},"required":["q"],"additionalProperties":false}""",
        ["now"] = """{"type":"object","properties":{}}""",
    };

    private static ToolDefinition[] Definitions() =>
        [.. Tools.Select(t => new ToolDefinition(t.Key, JsonDocument.Parse(t.Value).RootElement.Clone()))];

    [GeneratedRegex("<tool_call>\n(.*?)\n</tool_call>", RegexOptions.Singleline)]
    private static partial Regex CallPattern();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task QwenToolCallsNameAGivenToolAndTheirArgumentsValidate(bool parallel)
    {
        Grammar call = Grammar.Sequence(Grammar.Literal("<tool_call>\n"), JsonGrammar.ToolCall(Definitions()), Grammar.Literal("\n</tool_call>"));
        Grammar grammar = parallel ? Grammar.Repeat(call, 1, 3, Grammar.Literal("\n")) : call;
        TokenVocabulary vocab = TestVocabularies.Random(77);
        TokenConstraint constraint = TokenConstraint.Create(grammar, vocab);
        var schemas = new Dictionary<string, JsonSchema>();
        foreach ((string name, string schema) in Tools)
        {
            schemas[name] = await JsonSchema.FromJsonAsync(schema);
        }

        int calls = 0;
        var seen = new HashSet<string>();
        for (int seed = 0; seed < 60; seed++)
        {
            RandomWalker.Walk walk = RandomWalker.Run(constraint, seed, uniformSteps: 5 + (seed % 40));
            string text = Encoding.UTF8.GetString(walk.Output);
            Assert.True(walk.Finished, text);
            MatchCollection matches = CallPattern().Matches(text);
            Assert.NotEmpty(matches);
            Assert.True(parallel || matches.Count == 1);
            Assert.Equal(text, string.Join("\n", matches.Select(m => m.Value)));
            foreach (Match m in matches)
            {
                using JsonDocument doc = JsonDocument.Parse(m.Groups[1].Value);
                string name = doc.RootElement.GetProperty("name").GetString()!;
                Assert.True(schemas.ContainsKey(name), name);
                seen.Add(name);
                string arguments = doc.RootElement.GetProperty("arguments").GetRawText();
                Assert.Empty(schemas[name].Validate(arguments));
                calls++;
            }
        }

        Assert.True(seen.Count >= 3, string.Join(",", seen));
        Assert.True(calls >= 60);
    }

    [Fact]
    public void LlamaStyleArgumentsKeyAndErrorsNameTheFunction()
    {
        Grammar grammar = JsonGrammar.ToolCall(Definitions(), argumentsKey: "parameters");
        ConstraintState state = TokenConstraint.Create(grammar, TestVocabularies.Random(1)).CreateState();
        foreach (byte b in """{"name": "now", "parameters": {}}"""u8)
        {
            state.Advance(b);
        }

        Assert.True(state.IsComplete);

        var bad = new ToolDefinition("f", JsonDocument.Parse("""{"type":"object","properties":{"a":{"type":"string"}}}""").RootElement.Clone());
        InvalidSchemaException ex = Assert.Throws<InvalidSchemaException>(() => JsonGrammar.ToolCall([bad], new JsonSchemaOptions { Strict = true }));
        Assert.StartsWith("Invalid schema for function 'f':", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => JsonGrammar.ToolCall([bad, bad]));
    }

    [Fact]
    public void AnUnknownToolNameIsNeverAllowed()
    {
        ConstraintState state = TokenConstraint.Create(JsonGrammar.ToolCall(Definitions()), TestVocabularies.Random(1)).CreateState();
        foreach (byte b in """{"name": "sea"""u8)
        {
            state.Advance(b);
        }

        Assert.True(state.IsAllowed('r'));
        Assert.False(state.IsAllowed('x'));
        foreach (byte b in "rch"u8)
        {
            state.Advance(b);
        }

        Assert.True(state.IsAllowed('"'));
        Assert.True(state.IsAllowed('_'));
    }
}
