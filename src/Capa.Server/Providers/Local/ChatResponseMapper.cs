using System.Text;
using Capa.Engine.Text.Generation;
using Capa.Engine.Text.Tools;
using Capa.Protocol;
using Capa.Server.Routing;

namespace Capa.Server.Providers.Local;

/// <summary>What the response mappers need of a local model: its fingerprint and its tokenizer (for logprob bytes).</summary>
internal sealed record ChatModelOutput(string SystemFingerprint, HfGenerationTokenizer Tokenizer)
{
    public static implicit operator ChatModelOutput(LocalChatModel model) => new(model.SystemFingerprint, model.Tokenizer);
}

/// <summary>Maps engine results onto OpenAI's <c>chat.completion</c> object.</summary>
internal static class ChatResponseMapper
{
    public static string FinishReason(FinishReason reason) => reason switch
    {
        Engine.Text.Generation.FinishReason.Stop => FinishReasons.Stop,
        Engine.Text.Generation.FinishReason.Length => FinishReasons.Length,
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };

    /// <summary>The whole response, <c>created</c> read from <paramref name="time"/>.</summary>
    public static ChatCompletionResponse Response(ChatCall call, ChatModelOutput model, GenerationResult result, ChatOutputPlan plan, TimeProvider time) => new()
    {
        Id = ChatIds.NewCompletionId(),
        Created = time.GetUtcNow().ToUnixTimeSeconds(),
        Model = call.ResponseModel,
        SystemFingerprint = model.SystemFingerprint,
        Usage = CompletionUsage.Create(result.PromptTokens, result.CompletionTokens, result.CachedPromptTokens),
        Choices = [.. result.Choices.Select(c => Choice(model, c, plan))],
    };

    private static ChatChoice Choice(ChatModelOutput model, GenerationChoice choice, ChatOutputPlan plan)
    {
        var message = new ChatResponseMessage { Content = choice.Text };
        var finish = FinishReason(choice.FinishReason);
        if (plan.ToolFormat is { } format)
        {
            // Forced calls are read the way they are streamed, so both forms agree even when the limit cuts a call short.
            var cutOff = choice.FinishReason == Engine.Text.Generation.FinishReason.Length;
            var parsed = plan.ToolCallsForced
                ? Accumulate(choice.Text, format, plan.ToolNames, cutOff)
                : ToolCallParser.Parse(choice.Text, format, plan.ToolNames, newId: null, cutOff);
            if (parsed.ToolCalls.Count > 0 || cutOff)
            {
                message = new ChatResponseMessage
                {
                    Content = parsed.Content,
                    ToolCalls = parsed.ToolCalls.Count > 0 ? [.. parsed.ToolCalls.Select(ToolCall)] : null,
                };
                if (choice.FinishReason == Engine.Text.Generation.FinishReason.Stop)
                {
                    finish = FinishReasons.ToolCalls;
                }
            }
        }

        return new ChatChoice
        {
            Index = choice.Index,
            Message = message,
            FinishReason = finish,
            Logprobs = choice.Logprobs is null ? null : Logprobs(model, choice.Logprobs),
        };
    }

    private static ToolCallParseResult Accumulate(string text, ToolCallFormat format, IReadOnlyCollection<string>? names, bool cutOff)
    {
        var splitter = ToolCallStreamSplitter.ForConstrained(format, names, ChatIds.NewToolCallId);
        return ToolCallStreamSplitter.Accumulate([.. splitter.Push(text), .. splitter.Complete(cutOff)]);
    }

    private static ChatToolCall ToolCall(ParsedToolCall call) => new()
    {
        Id = call.Id,
        Function = new ChatFunctionCall { Name = call.Name, Arguments = call.Arguments },
    };

    public static ChatChoiceLogprobs Logprobs(ChatModelOutput model, IReadOnlyList<TokenLogprob> logprobs) => new()
    {
        Content = [.. logprobs.Select(lp => new ChatTokenLogprob
        {
            Token = TokenText(model, lp.TokenId, out var bytes),
            Bytes = bytes,
            Logprob = lp.Logprob,
            TopLogprobs = [.. lp.TopAlternatives.Select(a => new ChatTopLogprob
            {
                Token = TokenText(model, a.TokenId, out var altBytes),
                Bytes = altBytes,
                Logprob = a.Logprob,
            })],
        })],
    };

    // A token may be part of a UTF-8 character; like OpenAI, its text is then lossy and its bytes are exact.
    private static string TokenText(ChatModelOutput model, int id, out int[] bytes)
    {
        var raw = model.Tokenizer.GetTokenBytes(id);
        bytes = [.. raw.Select(b => (int)b)];
        return Encoding.UTF8.GetString(raw);
    }
}

/// <summary>Turns engine updates into <c>chat.completion.chunk</c> objects, OpenAI's way (all with the <c>created</c> of the stream's start).</summary>
internal sealed class ChatChunkWriter(ChatCall call, ChatModelOutput model, GenerationStream stream, ChatOutputPlan plan, TimeProvider time)
{
    private readonly ToolCallStreamSplitter?[] _splitters = [.. Enumerable.Range(0, stream.ChoiceCount).Select(_ =>
        plan.ToolFormat is not { } format ? null
        : plan.ToolCallsForced ? ToolCallStreamSplitter.ForConstrained(format, plan.ToolNames, ChatIds.NewToolCallId)
        : new ToolCallStreamSplitter(format, plan.ToolNames, ChatIds.NewToolCallId))];

    private readonly string _id = ChatIds.NewCompletionId();
    private readonly long _created = time.GetUtcNow().ToUnixTimeSeconds();
    private readonly bool _includeUsage = call.Request.IncludeUsage;

    private readonly bool[] _started = new bool[stream.ChoiceCount];

    /// <summary>
    /// The first chunk of every choice whose output is plain text: the assistant role, empty content, null refusal.
    /// A choice that may call tools starts with its first event instead, as OpenAI's do: null content and the first
    /// call when it opens with one, else the same empty-content start.
    /// </summary>
    public IEnumerable<ChatCompletionChunk> Opening()
    {
        for (var i = 0; i < stream.ChoiceCount; i++)
        {
            if (_splitters[i] is null)
            {
                _started[i] = true;
                yield return Chunk(new ChatChunkChoice { Index = i, Delta = ChatDelta.AssistantStart() });
            }
        }
    }

    // The deferred start of a tool-parsing choice, when its first chunk is not a call's opening delta.
    private IEnumerable<ChatCompletionChunk> Start(int index)
    {
        if (!_started[index])
        {
            _started[index] = true;
            yield return Chunk(new ChatChunkChoice { Index = index, Delta = ChatDelta.AssistantStart() });
        }
    }

    /// <summary>
    /// The chunks of one update: its text (with logprobs) or, when tools are parsed, its content and tool-call deltas
    /// (text that may open a call is held back until known); then, when it is the last, an empty delta with the finish
    /// reason (<c>tool_calls</c> when the choice made any).
    /// </summary>
    public IEnumerable<ChatCompletionChunk> Update(GenerationUpdate update)
    {
        var logprobs = update.Logprobs is { Count: > 0 } ? ChatResponseMapper.Logprobs(model, update.Logprobs) : null;
        if (_splitters[update.ChoiceIndex] is not { } splitter)
        {
            if (update.Text.Length > 0 || logprobs is not null)
            {
                yield return Chunk(new ChatChunkChoice { Index = update.ChoiceIndex, Delta = new ChatDelta { Content = update.Text }, Logprobs = logprobs });
            }
        }
        else
        {
            var events = new List<ToolStreamEvent>(splitter.Push(update.Text));
            if (update.FinishReason is not null)
            {
                events.AddRange(splitter.Complete(cutOff: update.FinishReason == Engine.Text.Generation.FinishReason.Length));
            }

            foreach (var e in events)
            {
                var delta = Delta(e);
                if (!_started[update.ChoiceIndex] && e is ToolCallEvent { Id: not null })
                {
                    _started[update.ChoiceIndex] = true;
                    delta = ChatDelta.AssistantStart(delta.ToolCalls);
                }

                foreach (var start in Start(update.ChoiceIndex))
                {
                    yield return start;
                }

                yield return Chunk(new ChatChunkChoice { Index = update.ChoiceIndex, Delta = delta, Logprobs = logprobs });
                logprobs = null;
            }

            if (logprobs is not null)
            {
                foreach (var start in Start(update.ChoiceIndex))
                {
                    yield return start;
                }

                yield return Chunk(new ChatChunkChoice { Index = update.ChoiceIndex, Delta = new ChatDelta { Content = string.Empty }, Logprobs = logprobs });
            }
        }

        if (update.FinishReason is { } finish)
        {
            foreach (var start in Start(update.ChoiceIndex))
            {
                yield return start;
            }

            var reason = finish == Engine.Text.Generation.FinishReason.Stop && _splitters[update.ChoiceIndex] is { ToolCallCount: > 0 }
                ? FinishReasons.ToolCalls
                : ChatResponseMapper.FinishReason(finish);
            yield return Chunk(new ChatChunkChoice { Index = update.ChoiceIndex, Delta = new ChatDelta(), FinishReason = reason });
        }
    }

    private static ChatDelta Delta(ToolStreamEvent e) => e switch
    {
        ContentEvent content => new ChatDelta { Content = content.Text },
        ToolCallEvent { Id: { } id } first => new ChatDelta
        {
            ToolCalls = [new ChatToolCallDelta { Index = first.Index, Id = id, Type = "function", Function = new ChatFunctionCallDelta { Name = first.Name, Arguments = first.Arguments } }],
        },
        ToolCallEvent fragment => new ChatDelta
        {
            ToolCalls = [new ChatToolCallDelta { Index = fragment.Index, Function = new ChatFunctionCallDelta { Arguments = fragment.Arguments } }],
        },
        _ => throw new ArgumentOutOfRangeException(nameof(e)),
    };

    /// <summary>The usage chunk (empty choices) when <c>stream_options.include_usage</c> is set, else null.</summary>
    public ChatCompletionChunk? Closing() => _includeUsage
        ? new ChatCompletionChunk
        {
            Id = _id,
            Created = _created,
            Model = call.ResponseModel,
            SystemFingerprint = model.SystemFingerprint,
            Choices = [],
            Usage = CompletionUsage.Create(stream.PromptTokens, stream.CompletionTokens, stream.CachedPromptTokens),
        }
        : null;

    private ChatCompletionChunk Chunk(ChatChunkChoice choice) => new()
    {
        Id = _id,
        Created = _created,
        Model = call.ResponseModel,
        SystemFingerprint = model.SystemFingerprint,
        Choices = [choice],
        IncludeUsageMember = _includeUsage,
    };
}
