using System.Text;
using Capa.Engine.Text.Constraints;
using Capa.Engine.Text.Generation;
using Capa.Engine.Text.Tests.Tools;
using Capa.Engine.Text.Tools;

namespace Capa.Engine.Text.Tests.Constraints;

/// <summary>
/// Tool calls in free output (<c>tool_choice</c> auto): text is free until the model opens a call, and the call that
/// follows always names a tool with valid arguments and closes, whatever the logits.
/// </summary>
public sealed class TriggeredConstraintProcessorTests
{
    internal static readonly SyntheticTokenizer Tokenizer = new();
    private static readonly byte[] Marker = Encoding.UTF8.GetBytes(ToolCallFormat.Hermes.OpenMarker!);
    private static readonly int OpenId = IdOf("<tool_call>");

    internal static int IdOf(string piece) =>
        Enumerable.Range(0, Tokenizer.VocabSize).First(i => Tokenizer.GetTokenBytes(i).AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(piece)));

    private static TriggeredConstraintProcessor Create(bool repeat)
    {
        var compiler = new ConstraintCompiler(ConstraintVocabularies.Build(Tokenizer, [Tokenizer.EosId]));
        return new TriggeredConstraintProcessor(Marker, compiler.ToolCallBody(ToolCallFormat.Hermes, ToolCallGrammarTests.Tools(), strict: true), repeat);
    }

    /// <summary>
    /// Samples random logits through a lazy processor; <paramref name="bias"/> shapes the free steps (making a call's
    /// opening likely). At every step the single-token check agrees with the mask on every id, and the end token is
    /// allowed exactly when no constrained part is open.
    /// </summary>
    internal static List<int> Walk(ILogitsProcessor processor, Func<bool> constraining, int seed, int maxTokens, Action<float[], int> bias)
    {
        var random = new Random(seed);
        var generated = new List<int>();
        var width = Tokenizer.VocabSize + 2;
        var logits = new float[width];
        var mask = new float[width];
        while (generated.Count < maxTokens)
        {
            Array.Clear(mask);
            processor.Process(mask, generated);
            for (var id = 0; id < width; id++)
            {
                Assert.Equal(!float.IsNegativeInfinity(mask[id]), processor.IsAllowed(id, generated));
            }

            var free = !constraining();
            for (var i = 0; i < width; i++)
            {
                // Ids past the tokenizer are banned by the sampler itself, as in the engine.
                logits[i] = float.IsNegativeInfinity(mask[i]) || i >= Tokenizer.VocabSize ? float.NegativeInfinity : (float)((random.NextDouble() * 8) - 4);
            }

            if (!processor.CanEnd)
            {
                logits[Tokenizer.EosId] = float.NegativeInfinity;
            }

            if (free)
            {
                bias(logits, generated.Count);
            }

            var max = logits.Max();
            Assert.False(float.IsNegativeInfinity(max), $"no token left after {generated.Count}");
            var weights = logits.Select(l => float.IsNegativeInfinity(l) ? 0 : Math.Exp(l - max)).ToArray();
            var r = random.NextDouble() * weights.Sum();
            var token = Array.FindLastIndex(weights, w => w > 0);
            for (var i = 0; i < weights.Length; i++)
            {
                r -= weights[i];
                if (r <= 0 && weights[i] > 0)
                {
                    token = i;
                    break;
                }
            }

            generated.Add(token);
            if (token == Tokenizer.EosId)
            {
                break;
            }
        }

        return generated;
    }

    private static List<int> Walk(TriggeredConstraintProcessor processor, int seed, int maxTokens)
    {
        var tokens = Walk(processor, () => processor.IsConstraining, seed, maxTokens, (logits, _) =>
        {
            logits[OpenId] += 3;
            logits[Tokenizer.EosId] -= 3; // keep free stretches going long enough to call again
        });
        Assert.Equal(!processor.IsConstraining, processor.CanEnd);
        return tokens;
    }

    [Fact]
    public void OpenedCalls_AlwaysCloseAsValidCalls_AndTextAroundThemStaysFree()
    {
        var names = ToolCallGrammarTests.Tools().Select(t => t.Name).ToArray();
        int calls = 0, withText = 0;
        for (var seed = 0; seed < 60; seed++)
        {
            var processor = Create(repeat: true);
            var tokens = Walk(processor, seed, 500);
            var text = Tokenizer.Decode(tokens);
            var parsed = ToolCallParser.Parse(text, ToolCallFormat.Hermes, names);

            // Every call the model opened is a valid call; one still open at the token limit counts only if its JSON was
            // complete (the parser reads an unclosed block at the very end).
            Assert.InRange(parsed.ToolCalls.Count, processor.Triggered - (processor.IsConstraining ? 1 : 0), processor.Triggered);
            Assert.All(parsed.ToolCalls, ToolCallGrammarTests.AssertValidCall);
            calls += parsed.ToolCalls.Count;
            withText += parsed.Content is null ? 0 : 1;
        }

        Assert.True(calls > 60, $"only {calls} calls in 60 walks");
        Assert.True(withText > 30, "free text around calls was not exercised");
    }

    [Fact]
    public void WithoutParallelCalls_TheOutputEndsAfterTheFirstCall()
    {
        var names = ToolCallGrammarTests.Tools().Select(t => t.Name).ToArray();
        var ended = 0;
        for (var seed = 0; seed < 40; seed++)
        {
            var processor = Create(repeat: false);
            var tokens = Walk(processor, seed, 500);
            if (processor.Triggered == 0 || processor.IsConstraining)
            {
                continue;
            }

            // The closing tag's token is followed by the end token and nothing else.
            Assert.Equal(Tokenizer.EosId, tokens[^1]);
            Assert.EndsWith("</tool_call>", Tokenizer.Decode(tokens), StringComparison.Ordinal);
            ToolCallGrammarTests.AssertValidCall(Assert.Single(ToolCallParser.Parse(Tokenizer.Decode(tokens), ToolCallFormat.Hermes, names).ToolCalls));
            ended++;
        }

        Assert.True(ended > 20, $"only {ended} walks made their call");
    }

    [Fact]
    public void TheTagSpelledByteByByte_Triggers()
    {
        var processor = Create(repeat: true);
        var generated = Encoding.UTF8.GetBytes("Hi <tool_cal").Select(b => (int)b).ToList();
        Assert.True(processor.IsAllowed('x', generated));
        Assert.False(processor.IsConstraining);
        generated.Add('l');
        generated.Add('>');
        Assert.False(processor.IsAllowed('x', generated)); // a call is open: only the rest of its layout may follow
        Assert.True(processor.IsConstraining);
        Assert.True(processor.IsAllowed('\n', generated));
        Assert.False(processor.CanEnd);
        Assert.Equal(1, processor.Triggered);
    }

    [Fact]
    public void ATagFollowedByMoreInTheSameToken_LeavesTheOutputFree()
    {
        // A vocabulary with the tag alone and the tag glued to its newline.
        ReadOnlyMemory<byte>[] tokens =
        [
            .. Enumerable.Range(0, 256).Select(b => (ReadOnlyMemory<byte>)new[] { (byte)b }),
            Encoding.UTF8.GetBytes("<tool_call>"),
            Encoding.UTF8.GetBytes("<tool_call>\n"),
            Array.Empty<byte>(),
        ];
        var vocabulary = Capa.Constraints.Vocabulary.TokenVocabulary.Create(tokens, [258]);
        var body = Capa.Constraints.Runtime.TokenConstraint.Create(ToolCallFormat.Hermes.CallBodyGrammar(ToolCallGrammarTests.Tools()), vocabulary);

        var alone = new TriggeredConstraintProcessor(Marker, body, repeat: true);
        Assert.False(alone.IsAllowed('x', [256]));
        Assert.True(alone.IsConstraining);

        var glued = new TriggeredConstraintProcessor(Marker, body, repeat: true);
        Assert.True(glued.IsAllowed('x', [257]));
        Assert.False(glued.IsConstraining);
        Assert.Equal(0, glued.Triggered);
    }
}
