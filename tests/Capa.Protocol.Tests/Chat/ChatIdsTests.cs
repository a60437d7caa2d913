using System.Text.RegularExpressions;

namespace Capa.Protocol.Tests.Chat;

public partial class ChatIdsTests
{
    [Fact]
    public void Completion_ids_look_like_openai_ids()
    {
        var id = ChatIds.NewCompletionId();
        Assert.Matches(CompletionId(), id);
    }

    [Fact]
    public void Tool_call_ids_look_like_openai_ids()
    {
        Assert.Matches(ToolCallId(), ChatIds.NewToolCallId());
    }

    [Fact]
    public void Ids_do_not_repeat()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 10_000; i++)
        {
            Assert.True(ids.Add(ChatIds.NewCompletionId()));
        }
    }

    [GeneratedRegex("^chatcmpl-[A-Za-z0-9]{29}$")]
    private static partial Regex CompletionId();

    [GeneratedRegex("^call_[A-Za-z0-9]{24}$")]
    private static partial Regex ToolCallId();
}
