using System.Text;
using System.Text.Json;
using Capa.Protocol.Tests.Validation;

namespace Capa.Protocol.Tests.Chat;

public class ChatCompletionRequestTests
{
    [Fact]
    public void Forwarded_json_rewrites_model_and_keeps_everything_else()
    {
        var request = ChatRequestReaderTests.Read("""
            {"messages":[{"role":"user","content":"hi","x_part":1}],"model":"gpt-4-1106-preview","temperature":0.25,
             "reasoning_effort":"low","x_vendor":{"deep":[1,2,{"k":"v"}]},"stream":true}
            """);

        var forwarded = request.ToForwardedJson("gpt-4o-mini");

        JsonAssert.Equal(
            """
            {"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi","x_part":1}],"temperature":0.25,
             "reasoning_effort":"low","x_vendor":{"deep":[1,2,{"k":"v"}]},"stream":true}
            """,
            forwarded);
        // The client's own number text passes through untouched.
        Assert.Contains("\"temperature\":0.25", Encoding.UTF8.GetString(forwarded), StringComparison.Ordinal);
    }

    [Fact]
    public void Forwarded_json_passes_undecoded_escapes_through()
    {
        var request = ChatRequestReaderTests.Read("""{"model":"a","messages":[{"role":"user","content":"x"}],"x_vendor":{"k":"\ud800 \u00e9"}}""");
        var forwarded = Encoding.UTF8.GetString(request.ToForwardedJson("b"));
        Assert.Contains("\\ud800", forwarded, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Forwarded_json_of_a_request_built_in_code_uses_the_typed_members()
    {
        var request = new ChatCompletionRequest
        {
            Model = "alias",
            Messages = [new ChatMessage { Role = ChatRole.User, Content = "hi" }],
            MaxTokens = 5,
        };

        JsonAssert.Equal(
            """{"model":"upstream-model","messages":[{"role":"user","content":"hi"}],"max_tokens":5}""",
            request.ToForwardedJson("upstream-model"));
    }

    [Fact]
    public void Forwarded_json_can_be_written_into_a_larger_document()
    {
        var request = ChatRequestReaderTests.Read("""{"model":"a","messages":[{"role":"user","content":"x"}]}""");
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            request.WriteForwardedJson(writer, "b");
            writer.WriteEndArray();
        }

        JsonAssert.Equal("""[{"model":"b","messages":[{"role":"user","content":"x"}]}]""", buffer.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData("""{"model":"gpt-4-1106-preview","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"谁获得了2022年英雄联盟S赛世界冠军？"}]}""")]
    [InlineData("""{"model":"gpt-3.5-turbo-1106","response_format":{"type":"json_object"},"messages":[{"role":"user","content":"json please"}]}""")]
    [InlineData("""{"model":"gpt-3.5-turbo-1106","messages":[{"role":"user","content":"x"}],"seed":123,"max_tokens":200,"temperature":0.7}""")]
    [InlineData("""{"model":"gpt-4-vision-preview","max_tokens":300,"messages":[{"role":"user","content":[{"type":"text","text":"这个图片里面有什么内容？"},{"type":"image_url","image_url":{"url":"https://upload.wikimedia.org/x.jpg","detail":"high"}}]}]}""")]
    [InlineData("""
        {"model":"m","messages":[{"role":"developer","content":"d"},{"role":"user","content":"q","name":"n"},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},
          {"role":"tool","content":"r","tool_call_id":"call_1"},{"role":"assistant","content":[{"type":"text","text":"a"}],"refusal":null}],
         "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},"strict":true}}],
         "tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false,
         "stream":true,"stream_options":{"include_usage":true},"stop":["x","y"],"n":2,"top_p":0.5,"presence_penalty":0.1,"frequency_penalty":-0.1,
         "logit_bias":{"50256":-100},"logprobs":true,"top_logprobs":3,"max_completion_tokens":64,"user":"u","store":true,"metadata":{"a":"b"},
         "response_format":{"type":"json_schema","json_schema":{"name":"s","description":"d","schema":{"type":"object"},"strict":true}},
         "service_tier":"auto","reasoning_effort":"high","modalities":["text"],"verbosity":"low","prompt_cache_key":"k","safety_identifier":"s",
         "prediction":{"type":"content","content":"p"},"web_search_options":{"search_context_size":"low"}}
        """)]
    public void Read_then_serialize_round_trips_spec_shaped_requests(string json)
    {
        var request = ChatRequestReaderTests.Read(json);
        var written = JsonSerializer.Serialize(request, CapaJsonContext.Default.ChatCompletionRequest);

        // An assistant "refusal": null is "not given": the typed form omits it (content is always written).
        var expected = json.Replace(",\"refusal\":null", "", StringComparison.Ordinal);
        JsonAssert.Equal(expected, written);

        // And what is written reads back to the same.
        var again = ChatRequestReaderTests.Read(written);
        Assert.Equal(written, JsonSerializer.Serialize(again, CapaJsonContext.Default.ChatCompletionRequest));
    }

    [Fact]
    public void Serializer_reads_requests_too()
    {
        const string json = """
            {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}],"tool_choice":"required","stop":["s"]}
            """;
        var request = JsonSerializer.Deserialize(json, CapaJsonContext.Default.ChatCompletionRequest)!;
        Assert.Equal("a", request.Messages[0].GetText());
        Assert.Same(ToolChoice.Required, request.ToolChoice);
    }

    [Fact]
    public void Include_usage_needs_stream()
    {
        var request = new ChatCompletionRequest
        {
            Model = "m",
            Messages = [],
            StreamOptions = new ChatStreamOptions { IncludeUsage = true },
        };
        Assert.False(request.IncludeUsage);
        Assert.True(WithStream(request).IncludeUsage);
    }

    private static ChatCompletionRequest WithStream(ChatCompletionRequest r) => new()
    {
        Model = r.Model,
        Messages = r.Messages,
        Stream = true,
        StreamOptions = r.StreamOptions,
    };
}
