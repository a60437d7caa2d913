using System.Text;
using Capa.Engine.Text.Constraints;
using Capa.Engine.Text.Tests.Tools;
using Capa.Engine.Text.Tools;
using static Capa.Engine.Text.Tests.Constraints.TriggeredConstraintProcessorTests;

namespace Capa.Engine.Text.Tests.Constraints;

/// <summary>
/// Tool calls in free output for bare-JSON formats (Llama 3): an output that begins with '{' is one or more valid
/// calls to the end; any other beginning stays free.
/// </summary>
public sealed class LeadingConstraintProcessorTests
{
    private static readonly string[] Names = [.. ToolCallGrammarTests.Tools().Select(t => t.Name)];

    private static LeadingConstraintProcessor Create(bool parallel)
    {
        var compiler = new ConstraintCompiler(ConstraintVocabularies.Build(Tokenizer, [Tokenizer.EosId]));
        return new LeadingConstraintProcessor((byte)'{', compiler.ToolCalls(ToolCallFormat.Llama3Json, ToolCallGrammarTests.Tools(), parallel, strict: true));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnOutputThatOpensAnObject_IsValidCalls(bool parallel)
    {
        var open = IdOf("{\"");
        var blank = IdOf("  ");
        var calls = 0;
        for (var seed = 0; seed < 40; seed++)
        {
            var processor = Create(parallel);
            // Some outputs start with blanks first; the object decides either way.
            var tokens = Walk(processor, () => processor.IsConstraining, seed, 400, (logits, position) => logits[position == 0 && seed % 3 == 0 ? blank : open] += 50);
            Assert.True(processor.IsConstraining);
            if (tokens[^1] != Tokenizer.EosId)
            {
                continue; // cut by the token limit
            }

            var parsed = ToolCallParser.Parse(Tokenizer.Decode(tokens), ToolCallFormat.Llama3Json, Names);
            Assert.Null(parsed.Content);
            Assert.NotEmpty(parsed.ToolCalls);
            Assert.InRange(parsed.ToolCalls.Count, 1, parallel ? ToolCallFormat.MaxParallelCalls : 1);
            Assert.All(parsed.ToolCalls, ToolCallGrammarTests.AssertValidCall);
            calls += parsed.ToolCalls.Count;
        }

        Assert.True(calls > 20, $"only {calls} calls");
    }

    [Fact]
    public void AnOutputThatBeginsWithText_StaysFree()
    {
        var text = IdOf("12");
        for (var seed = 0; seed < 10; seed++)
        {
            var processor = Create(parallel: true);
            var tokens = Walk(processor, () => processor.IsConstraining, seed, 60, (logits, position) =>
            {
                if (position == 0)
                {
                    logits[text] += 50;
                }
            });
            Assert.False(processor.IsConstraining);
            Assert.Equal(text, tokens[0]);
        }
    }

    [Fact]
    public void AnOpeningThatCannotBeACall_StaysFree()
    {
        // "{}" has no name: it cannot start a call, so the output is left to the parser (which reads it as content).
        var processor = Create(parallel: false);
        Assert.True(processor.IsAllowed('x', [IdOf("{}")]));
        Assert.False(processor.IsConstraining);

        var call = Create(parallel: false);
        Assert.False(call.IsAllowed('x', [.. Encoding.UTF8.GetBytes(" \n").Select(b => (int)b), IdOf("{\"")]));
        Assert.True(call.IsConstraining);
        Assert.True(call.IsAllowed(IdOf("name"), [.. Encoding.UTF8.GetBytes(" \n").Select(b => (int)b), IdOf("{\"")]));
    }
}
