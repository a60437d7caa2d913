using System.Text;
using Capa.Engine.Text.Tools;

namespace Capa.Engine.Text.Tests.Tools;

public sealed class ToolCallStreamSplitterTests
{
    private static readonly string[] Names = ["get_weather", "get_time"];

    /// <summary>Replays the events the way the OpenAI SDKs accumulate them.</summary>
    private static (string Content, List<(string Id, string Name, string Arguments)> Calls) Accumulate(IEnumerable<ToolStreamEvent> events)
    {
        var content = new StringBuilder();
        var calls = new List<(string Id, string Name, StringBuilder Arguments)>();
        foreach (var e in events)
        {
            switch (e)
            {
                case ContentEvent c:
                    Assert.NotEqual(string.Empty, c.Text);
                    content.Append(c.Text);
                    break;
                case ToolCallEvent t when t.Id is not null:
                    Assert.Equal(calls.Count, t.Index);
                    Assert.NotNull(t.Name);
                    calls.Add((t.Id, t.Name!, new StringBuilder(t.Arguments)));
                    break;
                case ToolCallEvent t:
                    Assert.Equal(calls.Count - 1, t.Index);
                    Assert.Null(t.Name);
                    calls[t.Index].Arguments.Append(t.Arguments);
                    break;
            }
        }

        return (content.ToString(), calls.Select(c => (c.Id, c.Name, c.Arguments.ToString())).ToList());
    }

    private static List<ToolStreamEvent> Run(ToolCallFormat format, IEnumerable<string> pieces)
    {
        var splitter = new ToolCallStreamSplitter(format, Names);
        var events = new List<ToolStreamEvent>();
        foreach (var piece in pieces)
        {
            events.AddRange(splitter.Push(piece));
        }

        events.AddRange(splitter.Complete());
        return events;
    }

    public static TheoryData<string> Outputs =>
    [
        "Sure.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris, \\\"FR\\\"\", \"note\": \"" + new string('x', 150) + "\"}}\n</tool_call>",
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"東京 🚀\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>",
        "No tools needed: 1 < 2 and <tool is not a tag.",
        "<tool_call>\n{\"name\": \"unknown\", \"arguments\": {}}\n</tool_call> then text",
        "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}",
        "  leading and trailing blanks  ",
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"a</tool_call>b {\\\"x\"}}\n</tool_call> after",
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"never closed</tool_call> tail",
    ];

    [Theory]
    [MemberData(nameof(Outputs))]
    public void Streaming_AgreesWithTheParser_AtEverySplitPoint(string text)
    {
        var expected = ToolCallParser.Parse(text, ToolCallFormat.Hermes, Names);
        for (var split = 0; split <= text.Length; split++)
        {
            var (content, calls) = Accumulate(Run(ToolCallFormat.Hermes, [text[..split], text[split..]]));
            Assert.Equal(expected.ToolCalls.Select(c => (c.Name, c.Arguments)), calls.Select(c => (c.Name, c.Arguments)));
            Assert.All(calls, c => Assert.Matches("^call_[A-Za-z0-9]{24}$", c.Id));
            if (calls.Count == 0)
            {
                Assert.Equal(text, content);
            }
            else
            {
                Assert.Equal(expected.Content ?? string.Empty, content.Trim());
            }
        }

        // One character at a time, too.
        var (_, single) = Accumulate(Run(ToolCallFormat.Hermes, text.Select(c => c.ToString())));
        Assert.Equal(expected.ToolCalls.Count, single.Count);
    }

    [Fact]
    public void PlainText_IsNotHeldLongerThanAPossibleTag()
    {
        var splitter = new ToolCallStreamSplitter(ToolCallFormat.Hermes, Names);
        Assert.Equal([new ContentEvent("Hello")], splitter.Push("Hello"));
        Assert.Empty(splitter.Push(" <tool"));
        Assert.Equal([new ContentEvent(" <tools> are fun")], splitter.Push("s> are fun"));
        Assert.Empty(splitter.Complete());
    }

    [Fact]
    public void FirstDeltaCarriesIdAndName_LaterOnesOnlyArguments()
    {
        var events = Run(ToolCallFormat.Hermes, ["<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"]);
        var first = Assert.IsType<ToolCallEvent>(events[0]);
        Assert.Equal(0, first.Index);
        Assert.NotNull(first.Id);
        Assert.Equal("get_weather", first.Name);
        Assert.Equal(string.Empty, first.Arguments);
        Assert.All(events.Skip(1), e => Assert.Null(((ToolCallEvent)e).Id));
        Assert.Equal(1, new ToolCallStreamSplitter(ToolCallFormat.Hermes, Names).Push("<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>").Count(e => e is ToolCallEvent { Id: not null }));
    }

    [Theory]
    [InlineData("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}", 1)]
    [InlineData("Plain answer.", 0)]
    public void Llama3_HoldsJsonToTheEnd_AndStreamsTextAtOnce(string text, int calls)
    {
        var splitter = new ToolCallStreamSplitter(ToolCallFormat.Llama3Json, Names);
        var early = splitter.Push(text[..5]);
        Assert.Equal(calls == 0, early.Count > 0);
        var events = early.Concat(splitter.Push(text[5..])).Concat(splitter.Complete()).ToList();
        var (content, parsed) = Accumulate(events);
        Assert.Equal(calls, parsed.Count);
        Assert.Equal(calls == 0 ? text : string.Empty, content);
    }
}
