using System.Text.Json;

namespace Capa.Protocol.Tests.Chat;

public class ChatCompletionResponseTests
{
    // The response the seed tutorial prints, in wire form, with the detail objects OpenAI sends today.
    private const string SeedResponse = """
        {
          "id": "chatcmpl-8PP1sbZKC7D5VSxHsgCOsMPyLFU0Y",
          "object": "chat.completion",
          "created": 1701065104,
          "model": "gpt-4-1106-preview",
          "choices": [
            {
              "index": 0,
              "message": {
                "role": "assistant",
                "content": "2022年英雄联盟世界锦标赛（S赛）的冠军是韩国的DRX战队。",
                "refusal": null,
                "annotations": []
              },
              "logprobs": null,
              "finish_reason": "stop"
            }
          ],
          "usage": {
            "prompt_tokens": 43,
            "completion_tokens": 99,
            "total_tokens": 142,
            "prompt_tokens_details": { "cached_tokens": 0, "audio_tokens": 0 },
            "completion_tokens_details": {
              "reasoning_tokens": 0,
              "audio_tokens": 0,
              "accepted_prediction_tokens": 0,
              "rejected_prediction_tokens": 0
            }
          },
          "system_fingerprint": "fp_a24b4d720c"
        }
        """;

    [Fact]
    public void Serializes_seed_response_exactly()
    {
        var response = new ChatCompletionResponse
        {
            Id = "chatcmpl-8PP1sbZKC7D5VSxHsgCOsMPyLFU0Y",
            Created = 1701065104,
            Model = "gpt-4-1106-preview",
            Choices =
            [
                new ChatChoice
                {
                    Index = 0,
                    Message = new ChatResponseMessage { Content = "2022年英雄联盟世界锦标赛（S赛）的冠军是韩国的DRX战队。" },
                    FinishReason = FinishReasons.Stop,
                },
            ],
            Usage = CompletionUsage.Create(43, 99),
            SystemFingerprint = "fp_a24b4d720c",
        };

        JsonAssert.Equal(SeedResponse, JsonSerializer.Serialize(response, CapaJsonContext.Default.ChatCompletionResponse));
    }

    [Fact]
    public void Round_trips_seed_response()
    {
        var response = JsonSerializer.Deserialize(SeedResponse, CapaJsonContext.Default.ChatCompletionResponse)!;
        Assert.Equal("chat.completion", response.Object);
        Assert.Equal(142, response.Usage!.TotalTokens);
        Assert.Equal("fp_a24b4d720c", response.SystemFingerprint);
        JsonAssert.Equal(SeedResponse, JsonSerializer.Serialize(response, CapaJsonContext.Default.ChatCompletionResponse));
    }

    [Fact]
    public void Round_trips_spec_example_with_service_tier()
    {
        // CreateChatCompletionResponse's example in the OpenAPI document (content shortened).
        const string spec = """
            {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion","created":1741570283,
             "model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"The image shows a wooden boardwalk.",
             "refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],
             "usage":{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163,
             "prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},
             "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},
             "service_tier":"default","system_fingerprint":"fp_fc9f1d7035"}
            """;
        var response = JsonSerializer.Deserialize(spec, CapaJsonContext.Default.ChatCompletionResponse)!;
        JsonAssert.Equal(spec, JsonSerializer.Serialize(response, CapaJsonContext.Default.ChatCompletionResponse));
    }

    [Fact]
    public void Tool_call_message_writes_null_content_and_the_calls()
    {
        var response = new ChatCompletionResponse
        {
            Id = "chatcmpl-x",
            Created = 1,
            Model = "m",
            Choices =
            [
                new ChatChoice
                {
                    Index = 0,
                    Message = new ChatResponseMessage
                    {
                        ToolCalls = [new ChatToolCall { Id = "call_1", Function = new ChatFunctionCall { Name = "get_weather", Arguments = "{\"city\":\"Paris\"}" } }],
                    },
                    FinishReason = FinishReasons.ToolCalls,
                },
            ],
        };

        JsonAssert.Equal(
            """
            {"id":"chatcmpl-x","object":"chat.completion","created":1,"model":"m","system_fingerprint":null,
             "choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,"annotations":[],
               "tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
               "logprobs":null,"finish_reason":"tool_calls"}]}
            """,
            JsonSerializer.Serialize(response, CapaJsonContext.Default.ChatCompletionResponse));
    }

    [Fact]
    public void Logprobs_follow_ChatCompletionTokenLogprob()
    {
        var logprobs = new ChatChoiceLogprobs
        {
            Content =
            [
                new ChatTokenLogprob
                {
                    Token = "Hi",
                    Logprob = -0.25,
                    Bytes = [72, 105],
                    TopLogprobs = [new ChatTopLogprob { Token = "Hi", Logprob = -0.25, Bytes = [72, 105] }, new ChatTopLogprob { Token = "<x>", Logprob = -9999.0 }],
                },
            ],
        };
        var response = new ChatCompletionResponse
        {
            Id = "chatcmpl-x",
            Created = 1,
            Model = "m",
            Choices = [new ChatChoice { Index = 0, Message = new ChatResponseMessage { Content = "Hi" }, Logprobs = logprobs, FinishReason = "length" }],
        };

        var json = JsonSerializer.Serialize(response, CapaJsonContext.Default.ChatCompletionResponse);
        using var document = JsonDocument.Parse(json);
        var lp = document.RootElement.GetProperty("choices")[0].GetProperty("logprobs");
        JsonAssert.Equal(
            """
            {"content":[{"token":"Hi","logprob":-0.25,"bytes":[72,105],
              "top_logprobs":[{"token":"Hi","logprob":-0.25,"bytes":[72,105]},{"token":"<x>","logprob":-9999,"bytes":null}]}],
             "refusal":null}
            """,
            lp.GetRawText());
    }
}
