using System.Text;
using Capa.Protocol.Responses;

namespace Capa.Protocol.Tests.Responses;

public sealed class ResponseRequestReaderTests
{
    private static CreateResponseRequest Read(string json)
    {
        Assert.True(ResponseRequestReader.TryRead(Encoding.UTF8.GetBytes(json), ChatRequestLimits.Default, out var request, out var error), error?.ToString());
        return request;
    }

    private static ApiError Reject(string json)
    {
        Assert.False(ResponseRequestReader.TryRead(Encoding.UTF8.GetBytes(json), ChatRequestLimits.Default, out _, out var error));
        return error;
    }

    [Fact]
    public void A_string_input_is_one_user_message_with_one_input_text_part()
    {
        var request = Read("""{"model":"m","input":"你好"}""");
        var item = Assert.Single(request.Input);
        Assert.Equal("message", item.Type);
        Assert.Equal("user", item.Role);
        Assert.Equal("input_text", Assert.Single(item.Content!).Type);
        Assert.Equal("你好", item.GetText());
        Assert.True(request.Store);
        Assert.False(request.Background);
        Assert.Equal("auto", request.ToolChoice.GetString());
    }

    [Fact]
    public void Items_of_every_supported_type_are_read()
    {
        var request = Read("""
            {"model":"m","input":[
              {"role":"developer","content":"be brief"},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi","annotations":[]}]},
              {"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":"{}"},
              {"type":"function_call_output","call_id":"call_1","output":"42"},
              {"type":"reasoning","id":"rs_1","summary":[]}]}
            """);
        Assert.Equal(["message", "message", "function_call", "function_call_output", "reasoning"], request.Input.Select(i => i.Type));
        Assert.Equal("output_text", request.Input[1].Content![0].Type);
        Assert.Equal("fc_1", request.Input[2].Id);
        Assert.Equal("42", request.Input[3].Output!.Value.GetString());
    }

    [Fact]
    public void Function_tools_tool_choice_and_text_format_map_to_chat_forms()
    {
        var request = Read("""
            {"model":"m","input":"x","tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"},"strict":true}],
             "tool_choice":{"type":"function","name":"get_weather"},
             "text":{"format":{"type":"json_schema","name":"out","schema":{"type":"object"},"strict":true}}}
            """);
        var tool = Assert.Single(request.Tools);
        Assert.Equal("get_weather", tool.Name);
        Assert.True(tool.Strict);
        Assert.Equal(ToolChoiceMode.Function, request.ChatToolChoice!.Mode);
        Assert.Equal("json_schema", request.Format!.Type);
        Assert.Equal("out", request.Format.JsonSchema!.Name);
    }

    [Theory]
    [InlineData("""{"model":"m","input":"x","tools":[{"type":"mcp","server_label":"s"}]}""", "tools[0].type", "unsupported_tool_type")]
    [InlineData("""{"model":"m","input":"x","tools":[{"type":"image_generation"}]}""", "tools[0].type", "unsupported_tool_type")]
    [InlineData("""{"model":"m","input":"x","tools":[{"type":"function","name":"bad name"}]}""", "tools[0].name", "invalid_value")]
    [InlineData("""{"model":"m","input":"x","tools":[{"type":"function","name":"a"},{"type":"function","name":"a"}]}""", "tools[1].name", "invalid_value")]
    [InlineData("""{"model":"m","input":"x","tool_choice":{"type":"function","name":"nope"},"tools":[{"type":"function","name":"a"}]}""", "tool_choice", "invalid_value")]
    [InlineData("""{"model":"m","input":"x","tool_choice":"sometimes"}""", "tool_choice", "invalid_value")]
    [InlineData("""{"model":"m","input":"x","max_output_tokens":5}""", "max_output_tokens", null)]
    [InlineData("""{"model":"m","input":"x","top_logprobs":21}""", "top_logprobs", null)]
    [InlineData("""{"model":"m","input":"x","truncation":"sometimes"}""", "truncation", "invalid_value")]
    [InlineData("""{"model":"m","input":"x","include":["nope"]}""", "include[0]", "invalid_value")]
    [InlineData("""{"model":"m","input":"x","metadata":{"k":1}}""", null, null)]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_image","detail":"auto"}]}]}""", "input[0].content[0].image_url", "missing_required_parameter")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,AAAA","file_id":"file-1"}]}]}""", "input[0].content[0].file_id", "invalid_value")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":"medium"}]}]}""", "input[0].content[0].detail", "invalid_value")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_file"}]}]}""", "input[0].content[0].file_id", "missing_required_parameter")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_data":"aGk="}]}]}""", "input[0].content[0].filename", "missing_required_parameter")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_audio"}]}]}""", "input[0].content[0].type", "invalid_value")]
    [InlineData("""{"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}""", "input[0].type", "unsupported_value")]
    [InlineData("""{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f"}]}""", "input[0].arguments", "missing_required_parameter")]
    [InlineData("""{"model":"m","input":[{"type":"reasoning","summary":{}}]}""", "input[0].summary", "invalid_type")]
    [InlineData("""{"model":"m","input":[[[]]]}""", "input[0]", "invalid_type")]
    [InlineData("""{"model":"m","input":"x","prompt":{"id":"pmpt_1"}}""", "prompt", "unsupported_parameter")]
    [InlineData("""{"model":"m","input":"x","background":true,"store":false}""", "background", "invalid_value")]
    public void Bad_requests_name_the_parameter(string json, string? param, string? code)
    {
        var error = Reject(json);
        Assert.Equal(400, error.Status);
        Assert.Equal("invalid_request_error", error.Type);
        if (param is not null)
        {
            Assert.Equal(param, error.Param);
        }

        if (code is not null)
        {
            Assert.Equal(code, error.Code);
        }
    }

    [Fact]
    public void Previous_response_id_with_conversation_is_openais_mutually_exclusive_error()
    {
        var error = Reject("""{"model":"m","input":"x","previous_response_id":"resp_1","conversation":{"id":"conv_1"}}""");
        Assert.Equal("mutually_exclusive_parameters", error.Code);
        Assert.Contains("'previous_response_id' or 'conversation'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bodies_over_the_limit_and_invalid_bytes_are_refused()
    {
        Assert.Equal(413, (ResponseRequestReader.TryRead(new byte[100], ChatRequestLimits.Default with { MaxBodyBytes = 10 }, out _, out var tooLarge) ? null : tooLarge)!.Status);
        Assert.False(ResponseRequestReader.TryRead([0xFF, 0xFE], ChatRequestLimits.Default, out _, out var invalid));
        Assert.Equal(400, invalid.Status);
        var deep = new string('[', 200) + new string(']', 200);
        Assert.False(ResponseRequestReader.TryRead(Encoding.UTF8.GetBytes($$"""{"model":"m","input":{{deep}}}"""), ChatRequestLimits.Default, out _, out var tooDeep));
        Assert.Equal(400, tooDeep.Status);
    }

    [Fact]
    public void The_chat_request_carries_instructions_context_calls_and_outputs_in_order()
    {
        var request = Read("""{"model":"m","instructions":"sys","input":[{"type":"function_call_output","call_id":"call_1","output":[{"type":"input_text","text":"21 C"}]}],"max_output_tokens":32,"tools":[{"type":"function","name":"w"}],"tool_choice":"required"}""");
        var context = new List<ResponseItem>
        {
            new() { Type = "message", Role = "user", Content = [ResponseContentPart.InputText("weather?")] },
            new() { Type = "message", Role = "assistant", Content = [ResponseContentPart.OutputText("let me check")] },
            new() { Type = "function_call", CallId = "call_1", Name = "w", Arguments = "{}" },
        };
        Assert.True(ResponsesChatRequest.TryCreate(request, context, ChatRequestLimits.Default, out var chat, out _, out var error), error?.ToString());
        Assert.Equal([ChatRole.System, ChatRole.User, ChatRole.Assistant, ChatRole.Tool], chat.Messages.Select(m => m.Role));
        Assert.Equal("let me check", chat.Messages[2].GetText());
        Assert.Equal("call_1", Assert.Single(chat.Messages[2].ToolCalls!).Id);
        Assert.Equal("21 C", chat.Messages[3].GetText());
        Assert.Equal(32, chat.MaxCompletionTokens);
        Assert.Equal(ToolChoiceMode.Required, chat.ToolChoice!.Mode);
        Assert.True(chat.IncludeUsage);
    }

    [Theory]
    [InlineData("tools[2].function.parameters", "tools[2].parameters")]
    [InlineData("response_format.json_schema.schema", "text.format.schema")]
    [InlineData("max_completion_tokens", "max_output_tokens")]
    [InlineData("messages[3].content", "input[3].content")]
    public void Chat_errors_name_the_responses_parameter(string chatParam, string responsesParam)
    {
        var error = ResponsesChatRequest.ToResponsesError(ApiError.InvalidRequest($"Invalid '{chatParam}'.", chatParam, "invalid_value"));
        Assert.Equal(responsesParam, error.Param);
        Assert.Equal($"Invalid '{responsesParam}'.", error.Message);
        Assert.Equal("invalid_value", error.Code);
    }
}
