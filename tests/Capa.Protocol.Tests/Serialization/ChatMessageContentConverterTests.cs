using System.Text.Json;

namespace Capa.Protocol.Tests.Serialization;

public class ChatMessageContentConverterTests
{
    [Fact]
    public void Content_writes_as_string_or_parts()
    {
        var message = new ChatMessage
        {
            Role = ChatRole.User,
            Content = ChatMessageContent.FromParts([ChatContentPart.FromText("t"), ChatContentPart.FromImageUrl("data:image/png;base64,AA", "low")]),
        };
        var request = new ChatCompletionRequest { Model = "m", Messages = [message, new ChatMessage { Role = ChatRole.System, Content = "s" }] };
        var json = JsonSerializer.Serialize(request, CapaJsonContext.Default.ChatCompletionRequest);
        JsonAssert.Equal(
            """
            {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"t"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA","detail":"low"}}]},
              {"role":"system","content":"s"}]}
            """,
            json);
    }

    [Fact]
    public void Content_reads_both_forms()
    {
        var request = JsonSerializer.Deserialize(
            """{"model":"m","messages":[{"role":"user","content":"plain"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}}]}]}""",
            CapaJsonContext.Default.ChatCompletionRequest)!;
        Assert.Equal("plain", request.Messages[0].Content!.Text);
        Assert.Null(request.Messages[0].Content!.Parts);
        Assert.Equal("wav", request.Messages[1].Content!.Parts![1].InputAudio!.Format);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("[null]")]
    public void Other_content_forms_fail_as_json_errors(string content)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(
            $$"""{"model":"m","messages":[{"role":"user","content":{{content}}}]}""",
            CapaJsonContext.Default.ChatCompletionRequest));
    }
}
