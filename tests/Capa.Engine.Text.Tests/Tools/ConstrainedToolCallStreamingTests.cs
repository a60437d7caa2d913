using System.Text;
using System.Text.Json;
using Capa.Constraints.Grammars;
using Capa.Engine.Text.Constraints;
using Capa.Engine.Text.Tests.Constraints;
using Capa.Engine.Text.Tools;

namespace Capa.Engine.Text.Tests.Tools;

/// <summary>
/// Incremental tool calls for output decoded under the forced-call grammar: outputs the grammar actually produces
/// (random walks through its mask) and hand-written ones with escapes and multi-byte text, split at random points.
/// </summary>
public sealed class ConstrainedToolCallStreamingTests
{
    private static readonly SyntheticTokenizer Tokenizer = new();
    private static readonly string[] Names = ["search", "get_time"];

    private sealed record Call(string Id, string Name, string Arguments, int Fragments);

    private sealed record Streamed(List<Call> Calls, string Content, int EventsAtComplete);

    private static ToolDefinition[] Tools()
    {
        using var search = JsonDocument.Parse("""
            {"type":"object","properties":{
              "q":{"type":"string","maxLength":10},
              "tags":{"type":"array","items":{"type":"string","maxLength":3},"maxItems":2},
              "page":{"type":"object","properties":{"n":{"type":"integer"},"all":{"type":"boolean"}},"required":["n","all"],"additionalProperties":false}},
             "required":["q","tags","page"],"additionalProperties":false}
            """);
        using var time = JsonDocument.Parse("""{"type":"object","properties":{"zone":{"type":"string","enum":["UTC","CET"]}},"required":["zone"],"additionalProperties":false}""");
        return [new ToolDefinition("search", search.RootElement.Clone()), new ToolDefinition("get_time", time.RootElement.Clone())];
    }

    private static ToolCallFormat Format(string name) => name == "hermes" ? ToolCallFormat.Hermes : ToolCallFormat.Llama3Json;

    /// <summary>Complete outputs of random walks under the forced-call grammar.</summary>
    private static List<string> GrammarOutputs(ToolCallFormat format, bool parallel, int seeds)
    {
        var compiler = new ConstraintCompiler(ConstraintVocabularies.Build(Tokenizer, [Tokenizer.EosId]));
        var constraint = compiler.ToolCalls(format, Tools(), parallel, strict: true);
        var outputs = new List<string>();
        for (var seed = 0; seed < seeds; seed++)
        {
            var tokens = ConstraintLogitsProcessorTests.Walk(new ConstraintLogitsProcessor(constraint.CreateState()), Tokenizer.VocabSize, seed, 900, Tokenizer.EosId);
            if (tokens[^1] == Tokenizer.EosId)
            {
                outputs.Add(Tokenizer.Decode(tokens));
            }
        }

        Assert.True(outputs.Count > seeds / 3, $"only {outputs.Count} of {seeds} walks completed");
        return outputs;
    }

    /// <summary>Outputs shaped as the grammar shapes them, with escapes, multi-byte text and surrogate pairs.</summary>
    private static IEnumerable<string> HandWritten(ToolCallFormat format)
    {
        string[] shapes =
        [
            """{"name": "search", "KEY": {"q": "caf\u00e9 \"quoted\" \\ back", "tags": ["é", "東京"], "page": {"n": -12, "all": true}}}""",
            """{ "name" : "get_time" ,  "KEY" :{ "zone":"UTC" } }""",
            """{"name": "search", "KEY": {"q": "🚀🚀 }{][", "tags": [], "page": {"n": 0, "all": false}}}""",
            """{"name":"search","KEY":{"q":"\\\"\\","tags":["\"}"],"page":{"n":7,"all":false}}}""",
        ];
        var calls = shapes.Select(s => s.Replace("KEY", format.ArgumentsKey, StringComparison.Ordinal)).ToArray();
        if (format.IsTagged)
        {
            yield return string.Join("\n", calls.Select(c => $"<tool_call>\n{c}\n</tool_call>"));
            yield return $"<tool_call>\n{calls[0]}\n</tool_call>";
        }
        else
        {
            yield return string.Join("\n", calls);
            yield return calls[2];
            yield return "<|python_tag|>" + string.Join("; ", calls[..2]);
        }
    }

    private static Func<string> Counter()
    {
        var n = 0;
        return () => $"call_{n++:D24}";
    }

    /// <summary>Streams <paramref name="pieces"/> and checks the delta shapes the SDKs' accumulators expect.</summary>
    private static Streamed Stream(ToolCallStreamSplitter splitter, IEnumerable<string> pieces)
    {
        var calls = new List<(string Id, string Name, StringBuilder Arguments, int Fragments)>();
        var content = new StringBuilder();
        void Accept(ToolStreamEvent e)
        {
            switch (e)
            {
                case ContentEvent c:
                    Assert.NotEqual(string.Empty, c.Text);
                    content.Append(c.Text);
                    break;
                case ToolCallEvent { Id: not null } first:
                    // (a) The first delta: index, id, name, empty arguments.
                    Assert.Equal(calls.Count, first.Index);
                    Assert.NotNull(first.Name);
                    Assert.Equal(string.Empty, first.Arguments);
                    calls.Add((first.Id, first.Name!, new StringBuilder(), 0));
                    break;
                case ToolCallEvent fragment:
                    // Later deltas: only a non-empty piece of the latest call's arguments, whole UTF-16 text.
                    Assert.Equal(calls.Count - 1, fragment.Index);
                    Assert.Null(fragment.Name);
                    Assert.False(string.IsNullOrEmpty(fragment.Arguments));
                    Assert.False(char.IsHighSurrogate(fragment.Arguments![^1]));
                    Assert.False(char.IsLowSurrogate(fragment.Arguments[0]));
                    var call = calls[^1];
                    call.Arguments.Append(fragment.Arguments);
                    calls[^1] = call with { Fragments = call.Fragments + 1 };
                    break;
            }
        }

        foreach (var piece in pieces)
        {
            foreach (var e in splitter.Push(piece))
            {
                Accept(e);
            }
        }

        var atComplete = splitter.Complete();
        foreach (var e in atComplete)
        {
            Accept(e);
        }

        Assert.Equal(calls.Count, splitter.ToolCallCount);
        return new Streamed([.. calls.Select(c => new Call(c.Id, c.Name, c.Arguments.ToString(), c.Fragments))], content.ToString(), atComplete.Count);
    }

    private static List<string> RandomPieces(string text, Random random)
    {
        var pieces = new List<string>();
        var pos = 0;
        while (pos < text.Length)
        {
            var length = Math.Min(text.Length - pos, random.Next(1, 9));
            pieces.Add(text.Substring(pos, length));
            pos += length;
        }

        return pieces;
    }

    private static void AssertAgreesWithParser(string text, ToolCallFormat format, Streamed streamed)
    {
        var ids = Counter();
        var expected = ToolCallParser.Parse(text, format, Names, ids);
        Assert.Null(expected.Content);
        Assert.NotEmpty(expected.ToolCalls);

        // (c) byte for byte the parser's calls, with the ids the same generator gives; (d) no content.
        Assert.Equal(expected.ToolCalls.Select(c => (c.Id, c.Name, c.Arguments)), streamed.Calls.Select(c => (c.Id, c.Name, c.Arguments)));
        Assert.Equal(string.Empty, streamed.Content);
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
    public void GrammarOutputs_StreamIncrementally_AndAgreeWithTheParser(string formatName, bool parallel)
    {
        var format = Format(formatName);
        var random = new Random(formatName.Length * 31 + (parallel ? 1 : 0));
        var generated = GrammarOutputs(format, parallel, 40);
        Assert.Equal(parallel, generated.Any(text => ToolCallParser.Parse(text, format, Names).ToolCalls.Count > 1));
        foreach (var text in generated.Concat(HandWritten(format)))
        {

            // Random chunk boundaries, a few times over.
            for (var round = 0; round < 4; round++)
            {
                var streamed = Stream(ToolCallStreamSplitter.ForConstrained(format, Names, Counter()), RandomPieces(text, random));
                AssertAgreesWithParser(text, format, streamed);

                // (b) Everything was streamed while the text arrived: the end of the stream adds nothing.
                Assert.Equal(0, streamed.EventsAtComplete);
            }

            // One character at a time: every argument character is out as soon as it arrives (a surrogate pair
            // as soon as both halves have), one fragment per character.
            var single = Stream(ToolCallStreamSplitter.ForConstrained(format, Names, Counter()), text.Select(c => c.ToString()));
            AssertAgreesWithParser(text, format, single);
            Assert.All(single.Calls, c => Assert.Equal(c.Arguments.Count(ch => !char.IsLowSurrogate(ch)), c.Fragments));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CallsAreAnnounced_BeforeTheirArgumentsAreComplete(string formatName, bool parallel)
    {
        var format = Format(formatName);
        foreach (var text in HandWritten(format).Concat(GrammarOutputs(format, parallel, 10)))
        {
            var splitter = ToolCallStreamSplitter.ForConstrained(format, Names, Counter());
            var expected = ToolCallParser.Parse(text, format, Names);
            var announcedAt = new List<int>();
            var lastFragmentAt = new List<int>();
            for (var i = 0; i < text.Length; i++)
            {
                foreach (var e in splitter.Push(text[i].ToString()))
                {
                    var call = Assert.IsType<ToolCallEvent>(e);
                    if (call.Id is not null)
                    {
                        announcedAt.Add(i);
                        lastFragmentAt.Add(i);
                    }
                    else
                    {
                        lastFragmentAt[call.Index] = i;
                    }
                }
            }

            Assert.Empty(splitter.Complete());
            Assert.Equal(expected.ToolCalls.Count, announcedAt.Count);
            for (var k = 0; k < announcedAt.Count; k++)
            {
                // Announced on the brace opening the arguments: the name was known, nothing of the arguments was.
                Assert.Equal('{', text[announcedAt[k]]);
                // The last fragment came with the brace closing them, not later.
                Assert.Equal(expected.ToolCalls[k].Arguments.Length - 1, lastFragmentAt[k] - announcedAt[k]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CutOffOutput_StreamsWhatWasGenerated(string formatName, bool parallel)
    {
        var format = Format(formatName);
        var random = new Random(7);
        foreach (var text in GrammarOutputs(format, parallel, 12))
        {
            var full = ToolCallParser.Parse(text, format, Names);
            for (var round = 0; round < 6; round++)
            {
                var cut = random.Next(0, text.Length);
                var streamed = Stream(ToolCallStreamSplitter.ForConstrained(format, Names, Counter()), RandomPieces(text[..cut], random));

                // Every call announced is one of the whole output's, its arguments a prefix of that call's.
                Assert.InRange(streamed.Calls.Count, 0, full.ToolCalls.Count);
                for (var k = 0; k < streamed.Calls.Count; k++)
                {
                    Assert.Equal(full.ToolCalls[k].Name, streamed.Calls[k].Name);
                    Assert.StartsWith(streamed.Calls[k].Arguments, full.ToolCalls[k].Arguments, StringComparison.Ordinal);
                }

                // Before any call is announced, the cut text is handled as the parser handles it.
                if (streamed.Calls.Count == 0)
                {
                    Assert.Equal(ToolCallParser.Parse(text[..cut], format, Names).Content ?? string.Empty, streamed.Content.Trim());
                }
            }
        }
    }

    /// <summary>
    /// The non-streamed form of a forced response is the accumulated stream: the parser's calls for a whole output, and
    /// for one cut by the token limit the calls announced so far, the last with the arguments generated so far.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Accumulate_IsTheParserForWholeOutputs_AndKeepsACutCall(string formatName, bool parallel)
    {
        var format = Format(formatName);
        var random = new Random(11);
        foreach (var text in GrammarOutputs(format, parallel, 8))
        {
            var whole = ToolCallStreamSplitter.ForConstrained(format, Names, Counter());
            var accumulated = ToolCallStreamSplitter.Accumulate([.. whole.Push(text), .. whole.Complete()]);
            var parsed = ToolCallParser.Parse(text, format, Names, Counter());
            Assert.Equal(parsed.Content, accumulated.Content);
            Assert.Equal(parsed.ToolCalls, accumulated.ToolCalls);

            var cut = random.Next(1, text.Length);
            var splitter = ToolCallStreamSplitter.ForConstrained(format, Names, Counter());
            var events = RandomPieces(text[..cut], random).SelectMany(splitter.Push).ToList();
            events.AddRange(splitter.Complete());
            var partial = ToolCallStreamSplitter.Accumulate(events);
            var streamed = events.OfType<ToolCallEvent>().GroupBy(e => e.Index).Select(g => string.Concat(g.Select(e => e.Arguments))).ToList();
            Assert.Equal(streamed, partial.ToolCalls.Select(c => c.Arguments));
            for (var k = 0; k < partial.ToolCalls.Count; k++)
            {
                Assert.Equal(parsed.ToolCalls[k].Name, partial.ToolCalls[k].Name);
                Assert.StartsWith(partial.ToolCalls[k].Arguments, parsed.ToolCalls[k].Arguments, StringComparison.Ordinal);
            }
        }
    }

    public static TheoryData<string> FreeOutputs =>
    [
        "Sure.\n<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"Paris, \\\"FR\\\"\", \"note\": \"" + new string('x', 150) + "\"}}\n</tool_call>",
        "<tool_call>\n{\"name\": \"unknown\", \"arguments\": {}}\n</tool_call> then text",
        "<tool_call>\n{\"arguments\": {}, \"name\": \"search\"}\n</tool_call>",
        "<tool_call>\n{\"name\": \"search\", \"arguments\": \"{\\\"q\\\": \\\"x\\\"}\"}\n</tool_call>",
        "<tool_call>\n{\"name\": \"get_</tool_call> trailing",
        "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}",
        "No tools needed: 1 < 2 and <tool is not a tag.",
    ];

    /// <summary>Text the grammar would not produce is, before a call is announced, handled as free output is.</summary>
    [Theory]
    [MemberData(nameof(FreeOutputs))]
    public void OffGrammarText_BeforeAnAnnouncement_IsHandledAsTheParserDoes(string text)
    {
        var expected = ToolCallParser.Parse(text, ToolCallFormat.Hermes, Names, Counter());
        var random = new Random(text.Length);
        foreach (var pieces in new[] { text.Select(c => c.ToString()).ToList(), RandomPieces(text, random), [text] })
        {
            var streamed = Stream(ToolCallStreamSplitter.ForConstrained(ToolCallFormat.Hermes, Names, Counter()), pieces);
            Assert.Equal(expected.ToolCalls.Select(c => (c.Id, c.Name, c.Arguments)), streamed.Calls.Select(c => (c.Id, c.Name, c.Arguments)));
            Assert.Equal(expected.Content ?? string.Empty, streamed.Content.Trim());
        }
    }

    [Theory]
    [InlineData("{\"name\": \"search\", \"parameters\": \"{}\"}")]
    [InlineData("{\"name\": \"nope\", \"parameters\": {}}")]
    [InlineData("Plain answer.")]
    [InlineData("  <|python_tag|>{\"name\": \"get_time\", \"parameters\": {\"zone\": \"UTC\"}} ; ")]
    public void Llama3_OffGrammarText_BeforeAnAnnouncement_IsHandledAsTheParserDoes(string text)
    {
        var expected = ToolCallParser.Parse(text, ToolCallFormat.Llama3Json, Names, Counter());
        foreach (var pieces in new[] { text.Select(c => c.ToString()).ToList(), [text] })
        {
            var streamed = Stream(ToolCallStreamSplitter.ForConstrained(ToolCallFormat.Llama3Json, Names, Counter()), pieces);
            Assert.Equal(expected.ToolCalls.Select(c => (c.Id, c.Name, c.Arguments)), streamed.Calls.Select(c => (c.Id, c.Name, c.Arguments)));
            Assert.Equal(expected.Content ?? string.Empty, streamed.Content);
        }
    }

    [Fact]
    public void OffGrammarText_AfterAnAnnouncement_IsReleasedAsContent()
    {
        var text = "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}} junk\n</tool_call>";
        foreach (var pieces in new[] { text.Select(c => c.ToString()).ToList(), [text] })
        {
            var streamed = Stream(ToolCallStreamSplitter.ForConstrained(ToolCallFormat.Hermes, Names, Counter()), pieces);
            var call = Assert.Single(streamed.Calls);
            Assert.Equal(("get_time", "{\"zone\": \"UTC\"}"), (call.Name, call.Arguments));
            Assert.Equal("junk", streamed.Content.Trim());
        }
    }

    [Fact]
    public void DefaultSplitter_StillHoldsCallsUntilComplete()
    {
        var text = "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_call>";
        var free = new ToolCallStreamSplitter(ToolCallFormat.Hermes, Names);
        var constrained = ToolCallStreamSplitter.ForConstrained(ToolCallFormat.Hermes, Names);
        Assert.False(free.IsConstrained);
        Assert.True(constrained.IsConstrained);
        var cut = text.IndexOf("UTC", StringComparison.Ordinal);
        Assert.Empty(free.Push(text[..cut]));
        Assert.Equal(["", "{\"zone\": \""], constrained.Push(text[..cut]).Cast<ToolCallEvent>().Select(e => e.Arguments));
    }
}
