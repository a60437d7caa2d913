using System.Text.Json;

namespace Capa.Protocol.Tests.Chat;

public class ChatMessageTests
{
    [Fact]
    public void Text_of_string_and_part_contents()
    {
        Assert.Equal("abc", new ChatMessage { Role = ChatRole.User, Content = "abc" }.GetText());
        Assert.Equal(string.Empty, new ChatMessage { Role = ChatRole.Assistant }.GetText());
        var parts = ChatMessageContent.FromParts([ChatContentPart.FromText("a"), ChatContentPart.FromImageUrl("https://x"), ChatContentPart.FromText("b")]);
        Assert.Equal("ab", parts.GetText());
    }

    [Fact]
    public void Roles_use_the_wire_names()
    {
        foreach (var (role, name) in new[] { (ChatRole.System, "system"), (ChatRole.Developer, "developer"), (ChatRole.User, "user"), (ChatRole.Assistant, "assistant"), (ChatRole.Tool, "tool"), (ChatRole.Function, "function") })
        {
            var request = new ChatCompletionRequest { Model = "m", Messages = [new ChatMessage { Role = role, Content = "x" }] };
            Assert.Contains($"\"role\":\"{name}\"", JsonSerializer.Serialize(request, CapaJsonContext.Default.ChatCompletionRequest), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Content_factories_check_arguments()
    {
        Assert.Throws<ArgumentNullException>(() => ChatMessageContent.FromText(null!));
        Assert.Throws<ArgumentNullException>(() => ChatMessageContent.FromParts(null!));
    }
}
