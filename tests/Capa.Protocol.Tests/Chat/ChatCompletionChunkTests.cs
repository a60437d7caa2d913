using System.Text.Json;

namespace Capa.Protocol.Tests.Chat;

public class ChatCompletionChunkTests
{
    private static string Write(ChatCompletionChunk chunk) => JsonSerializer.Serialize(chunk, CapaJsonContext.Default.ChatCompletionChunk);

    [Fact]
    public void First_chunk_carries_the_role_and_null_finish_reason()
    {
        var chunk = new ChatCompletionChunk
        {
            Id = "chatcmpl-a",
            Created = 7,
            Model = "m",
            SystemFingerprint = "fp_1",
            Choices = [new ChatChunkChoice { Index = 0, Delta = ChatDelta.AssistantStart() }],
        };

        JsonAssert.Equal(
            """
            {"id":"chatcmpl-a","object":"chat.completion.chunk","created":7,"model":"m","system_fingerprint":"fp_1",
             "choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}
            """,
            Write(chunk));
    }

    [Fact]
    public void First_chunk_of_a_tool_call_has_null_content()
    {
        var delta = ChatDelta.AssistantStart([new ChatToolCallDelta { Index = 0, Id = "call_1", Type = "function", Function = new ChatFunctionCallDelta { Name = "f", Arguments = "" } }]);
        var chunk = new ChatCompletionChunk { Id = "c", Created = 1, Model = "m", Choices = [new ChatChunkChoice { Index = 0, Delta = delta }] };
        Assert.Contains(
            "\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}],\"refusal\":null}",
            Write(chunk),
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"content":5}""")]
    [InlineData("""{"role":{}}""")]
    [InlineData("""[]""")]
    public void Malformed_deltas_fail_as_json_errors(string delta)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(
            $$"""{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{{delta}},"finish_reason":null}]}""",
            CapaJsonContext.Default.ChatCompletionChunk));
    }

    [Fact]
    public void Deltas_read_back_with_their_nulls()
    {
        const string json = """
            {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":null,"choices":[
              {"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"x","type":"function","function":{"name":"f","arguments":""}}],"refusal":null,"future":[1]},"logprobs":null,"finish_reason":null},
              {"index":1,"delta":{"content":"hi"},"logprobs":null,"finish_reason":null},
              {"index":2,"delta":{"function_call":{"arguments":"{"}},"logprobs":null,"finish_reason":null}]}
            """;
        var chunk = JsonSerializer.Deserialize(json, CapaJsonContext.Default.ChatCompletionChunk)!;
        Assert.True(chunk.Choices[0].Delta.ExplicitNulls);
        Assert.Equal("f", chunk.Choices[0].Delta.ToolCalls![0].Function!.Name);
        Assert.False(chunk.Choices[1].Delta.ExplicitNulls);
        Assert.Equal("{", chunk.Choices[2].Delta.FunctionCall!.Arguments);
        JsonAssert.Equal(json.Replace(",\"future\":[1]", "", StringComparison.Ordinal), Write(chunk));
    }

    [Fact]
    public void Usage_is_omitted_unless_asked_for()
    {
        var chunk = new ChatCompletionChunk { Id = "c", Created = 1, Model = "m", Choices = [] };
        Assert.DoesNotContain("usage", Write(chunk), StringComparison.Ordinal);
    }

    [Fact]
    public void Usage_is_null_on_every_chunk_when_include_usage_is_set()
    {
        var chunk = new ChatCompletionChunk
        {
            Id = "c",
            Created = 1,
            Model = "m",
            IncludeUsageMember = true,
            Choices = [new ChatChunkChoice { Index = 0, Delta = new ChatDelta { Content = "x" } }],
        };

        JsonAssert.Equal(
            """
            {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":null,
             "choices":[{"index":0,"delta":{"content":"x"},"logprobs":null,"finish_reason":null}],"usage":null}
            """,
            Write(chunk));
    }

    [Fact]
    public void Final_usage_chunk_has_empty_choices_and_the_usage()
    {
        var chunk = new ChatCompletionChunk { Id = "c", Created = 1, Model = "m", Choices = [], Usage = new CompletionUsage { PromptTokens = 3, CompletionTokens = 4, TotalTokens = 7 } };
        JsonAssert.Equal(
            """
            {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":null,"choices":[],
             "usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}
            """,
            Write(chunk));
    }

    [Fact]
    public void Finish_chunk_has_empty_delta()
    {
        var chunk = new ChatCompletionChunk
        {
            Id = "c",
            Created = 1,
            Model = "m",
            Choices = [new ChatChunkChoice { Index = 0, Delta = new ChatDelta(), FinishReason = FinishReasons.Stop }],
        };
        Assert.Contains("\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"", Write(chunk), StringComparison.Ordinal);
    }

    [Fact]
    public void Tool_call_deltas_match_the_stream_shape()
    {
        var chunk = new ChatCompletionChunk
        {
            Id = "c",
            Created = 1,
            Model = "m",
            Choices =
            [
                new ChatChunkChoice
                {
                    Index = 0,
                    Delta = new ChatDelta
                    {
                        ToolCalls =
                        [
                            new ChatToolCallDelta { Index = 0, Id = "call_1", Type = "function", Function = new ChatFunctionCallDelta { Name = "f", Arguments = "" } },
                            new ChatToolCallDelta { Index = 1, Function = new ChatFunctionCallDelta { Arguments = "{\"a\":" } },
                        ],
                    },
                },
            ],
        };

        using var document = JsonDocument.Parse(Write(chunk));
        JsonAssert.Equal(
            """
            [{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}},
             {"index":1,"function":{"arguments":"{\"a\":"}}]
            """,
            document.RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls").GetRawText());
    }

    [Theory]
    [InlineData("""{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"hi"},"logprobs":null,"finish_reason":null}]}""", false)]
    [InlineData("""{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"hi"},"logprobs":null,"finish_reason":null}],"usage":null}""", true)]
    [InlineData("""{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","service_tier":"default","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}""", true)]
    public void Round_trips_the_three_usage_states(string json, bool usageMember)
    {
        var chunk = JsonSerializer.Deserialize(json, CapaJsonContext.Default.ChatCompletionChunk)!;
        Assert.Equal(usageMember, chunk.IncludeUsageMember);
        JsonAssert.Equal(json, Write(chunk));
    }
}
