using System.Text;
using Capa.Protocol.Assistants;

namespace Capa.Protocol.Tests.Assistants;

/// <summary>Message attachments as the Assistants reader takes them: normalised, or OpenAI's 400 naming the member.</summary>
public sealed class AssistantRequestReaderTests
{
    private static MessageRequest Read(string json)
    {
        Assert.True(AssistantRequestReader.TryReadMessage(Encoding.UTF8.GetBytes(json), ChatRequestLimits.Default, out var request, out var error), error?.ToString());
        return request;
    }

    private static ApiError Reject(string json)
    {
        Assert.False(AssistantRequestReader.TryReadMessage(Encoding.UTF8.GetBytes(json), ChatRequestLimits.Default, out _, out var error));
        Assert.Equal(400, error.Status);
        return error;
    }

    [Fact]
    public void Attachments_are_kept_in_openais_form()
    {
        var request = Read("""{"role":"user","content":"x","attachments":[{"file_id":"file-a","tools":[{"type":"file_search"}]},{"file_id":"file-b","tools":[]}]}""");
        Assert.Equal(2, request.Attachments.Count);
        Assert.Equal("""{"file_id":"file-a","tools":[{"type":"file_search"}]}""", request.Attachments[0].GetRawText());
        Assert.Equal("""{"file_id":"file-b","tools":[]}""", request.Attachments[1].GetRawText());
        Assert.True(AssistantRequestReader.IsForFileSearch(request.Attachments[0]));
        Assert.False(AssistantRequestReader.IsForFileSearch(request.Attachments[1]));
        Assert.Empty(Read("""{"role":"user","content":"x","attachments":null}""").Attachments);
    }

    [Theory]
    [InlineData("""{"role":"user","content":"x","attachments":[{"file_id":"f","tools":[{"type":"code_interpreter"}]}]}""", "attachments[0].tools[0].type", "unsupported_value")]
    [InlineData("""{"role":"user","content":"x","attachments":[{"file_id":"f","tools":[{"type":"retrieval"}]}]}""", "attachments[0].tools[0].type", "invalid_value")]
    [InlineData("""{"role":"user","content":"x","attachments":[{"file_id":"f","tools":[{"type":"file_search","extra":1}]}]}""", "attachments[0].tools[0].extra", "unknown_parameter")]
    [InlineData("""{"role":"user","content":"x","attachments":[{"file_id":"f"}]}""", "attachments[0].tools", "missing_required_parameter")]
    [InlineData("""{"role":"user","content":"x","attachments":[{"tools":[]}]}""", "attachments[0].file_id", "missing_required_parameter")]
    [InlineData("""{"role":"user","content":"x","attachments":[{"file_id":"","tools":[]}]}""", "attachments[0].file_id", "empty_string")]
    [InlineData("""{"role":"user","content":"x","attachments":[{"file_id":7,"tools":[]}]}""", "attachments[0].file_id", null)]
    [InlineData("""{"role":"user","content":"x","attachments":[{"file_id":"f","tools":[],"note":"n"}]}""", "attachments[0].note", "unknown_parameter")]
    [InlineData("""{"role":"user","content":"x","attachments":["file-a"]}""", "attachments[0]", null)]
    public void Bad_attachments_name_the_member(string json, string param, string? code)
    {
        var error = Reject(json);
        Assert.Equal(param, error.Param);
        if (code is not null)
        {
            Assert.Equal(code, error.Code);
        }
    }

    [Fact]
    public void More_attachments_than_the_bound_are_refused()
    {
        var many = string.Join(",", Enumerable.Range(0, AssistantRequestReader.MaxAttachments + 1).Select(i => $$"""{"file_id":"file-{{i}}","tools":[]}"""));
        Assert.Equal("attachments", Reject($$"""{"role":"user","content":"x","attachments":[{{many}}]}""").Param);
    }
}
