using System.Text.Json;
using Capa.Protocol;
using Capa.Protocol.Responses;
using Capa.Server.Responses;

namespace Capa.Server.Tests.Responses;

public sealed class ResponseStreamBuilderTests
{
    private static ChatCompletionChunk Chunk(ChatDelta delta, string? finish = null) => new()
    {
        Id = "chatcmpl-1",
        Created = 1,
        Model = "m",
        Choices = [new ChatChunkChoice { Index = 0, Delta = delta, FinishReason = finish }],
    };

    private static ChatCompletionChunk Usage(int prompt, int completion) => new()
    {
        Id = "chatcmpl-1",
        Created = 1,
        Model = "m",
        Choices = [],
        Usage = CompletionUsage.Create(prompt, completion, cachedTokens: 3),
    };

    private static ResponseStreamBuilder Builder() => new(new ResponseObject { Id = "resp_1", CreatedAt = 1, Status = "in_progress", Model = "m" }, logprobs: false);

    /// <summary>Replays events the way a client accumulates them, and returns the output it ends with.</summary>
    private static List<ResponseItem> Accumulate(IEnumerable<ResponseStreamEvent> events)
    {
        var output = new List<ResponseItem>();
        var text = new Dictionary<int, string>();
        var arguments = new Dictionary<int, string>();
        foreach (var e in events)
        {
            switch (e.Type)
            {
                case ResponseEventTypes.OutputItemAdded:
                    Assert.Equal(output.Count, e.OutputIndex);
                    output.Add(e.Item!);
                    break;
                case ResponseEventTypes.OutputTextDelta:
                    text[e.OutputIndex!.Value] = text.GetValueOrDefault(e.OutputIndex.Value, "") + e.Delta;
                    break;
                case ResponseEventTypes.OutputTextDone:
                    Assert.Equal(text[e.OutputIndex!.Value], e.Text);
                    break;
                case ResponseEventTypes.FunctionCallArgumentsDelta:
                    arguments[e.OutputIndex!.Value] = arguments.GetValueOrDefault(e.OutputIndex.Value, "") + e.Delta;
                    break;
                case ResponseEventTypes.FunctionCallArgumentsDone:
                    Assert.Equal(arguments[e.OutputIndex!.Value], e.Arguments);
                    break;
                case ResponseEventTypes.OutputItemDone:
                    output[e.OutputIndex!.Value] = e.Item!;
                    break;
            }
        }

        return output;
    }

    private static string Json(object value) => value switch
    {
        ResponseItem item => JsonSerializer.Serialize(item, ResponsesJsonContext.Default.ResponseItem),
        _ => throw new ArgumentException("unexpected"),
    };

    [Fact]
    public void Text_then_tool_calls_become_a_message_and_function_call_items_in_order()
    {
        var builder = Builder();
        var events = new List<ResponseStreamEvent>();
        events.AddRange(builder.Start());
        events.AddRange(builder.Add(Chunk(ChatDelta.AssistantStart())));
        events.AddRange(builder.Add(Chunk(new ChatDelta { Content = "Checking" })));
        events.AddRange(builder.Add(Chunk(new ChatDelta { ToolCalls = [new ChatToolCallDelta { Index = 0, Id = "call_a", Type = "function", Function = new ChatFunctionCallDelta { Name = "w", Arguments = "{\"c\":" } }] })));
        events.AddRange(builder.Add(Chunk(new ChatDelta { ToolCalls = [new ChatToolCallDelta { Index = 0, Function = new ChatFunctionCallDelta { Arguments = "1}" } }] })));
        events.AddRange(builder.Add(Chunk(new ChatDelta { ToolCalls = [new ChatToolCallDelta { Index = 1, Id = "call_b", Type = "function", Function = new ChatFunctionCallDelta { Name = "t", Arguments = "{}" } }] })));
        events.AddRange(builder.Add(Chunk(new ChatDelta(), "tool_calls")));
        events.AddRange(builder.Add(Usage(10, 5)));
        events.AddRange(builder.Finish(2));

        Assert.Equal(
            [
                "response.created", "response.in_progress",
                "response.output_item.added", "response.content_part.added", "response.output_text.delta",
                "response.output_text.done", "response.content_part.done", "response.output_item.done",
                "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
                "response.function_call_arguments.done", "response.output_item.done",
                "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done",
                "response.completed",
            ],
            events.Select(e => e.Type));
        Assert.Equal(Enumerable.Range(0, events.Count).Select(i => (long)i), events.Select(e => e.SequenceNumber));

        var response = builder.Response;
        Assert.Equal("completed", response.Status);
        Assert.Equal(["message", "function_call", "function_call"], response.Output.Select(i => i.Type));
        Assert.Equal("{\"c\":1}", response.Output[1].Arguments);
        Assert.Equal("call_b", response.Output[2].CallId);
        Assert.Equal(3, response.Usage!.InputTokensDetails.CachedTokens);
        Assert.Equal(15, response.Usage.TotalTokens);
        Assert.Equal(response.Output.Select(Json), Accumulate(events).Select(Json));
        Assert.Same(response, events[^1].Response);
    }

    [Fact]
    public void A_cut_by_the_token_limit_is_incomplete_with_the_reason()
    {
        var builder = Builder();
        var events = builder.Start().Concat(builder.Add(Chunk(new ChatDelta { Content = "abc" }))).Concat(builder.Add(Chunk(new ChatDelta(), "length"))).Concat(builder.Finish(2)).ToList();
        Assert.Equal("response.incomplete", events[^1].Type);
        Assert.Equal("incomplete", builder.Response.Status);
        Assert.Equal("max_output_tokens", builder.Response.IncompleteDetails!.Reason);
        Assert.Null(builder.Response.CompletedAt);
        Assert.Equal("incomplete", Assert.Single(builder.Response.Output).Status);
    }

    [Fact]
    public void A_failure_emits_error_then_response_failed()
    {
        var builder = Builder();
        var events = builder.Start().Concat(builder.Fail(ApiError.Overloaded())).ToList();
        Assert.Equal(["response.created", "response.in_progress", "error", "response.failed"], events.Select(e => e.Type));
        Assert.Equal("overloaded", events[2].Code!.Value.GetString());
        Assert.Equal("failed", builder.Response.Status);
        Assert.Equal("overloaded", builder.Response.Error!.Code);
    }
}
