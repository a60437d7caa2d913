using System.Text;
using Capa.Engine.Generation;
using Capa.Protocol;
using Capa.Server.Routing;

namespace Capa.Server.Providers.Local;

/// <summary>Maps engine results onto OpenAI's <c>chat.completion</c> object.</summary>
internal static class ChatResponseMapper
{
    public static string FinishReason(FinishReason reason) => reason switch
    {
        Engine.Generation.FinishReason.Stop => FinishReasons.Stop,
        Engine.Generation.FinishReason.Length => FinishReasons.Length,
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };

    public static ChatCompletionResponse Response(ChatCall call, LocalChatModel model, GenerationResult result) => new()
    {
        Id = ChatIds.NewCompletionId(),
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        Model = call.ResponseModel,
        SystemFingerprint = model.SystemFingerprint,
        Usage = CompletionUsage.Create(result.PromptTokens, result.CompletionTokens),
        Choices = [.. result.Choices.Select(c => new ChatChoice
        {
            Index = c.Index,
            Message = new ChatResponseMessage { Content = c.Text },
            FinishReason = FinishReason(c.FinishReason),
            Logprobs = c.Logprobs is null ? null : Logprobs(model, c.Logprobs),
        })],
    };

    public static ChatChoiceLogprobs Logprobs(LocalChatModel model, IReadOnlyList<TokenLogprob> logprobs) => new()
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
    private static string TokenText(LocalChatModel model, int id, out int[] bytes)
    {
        var raw = model.Tokenizer.GetTokenBytes(id);
        bytes = [.. raw.Select(b => (int)b)];
        return Encoding.UTF8.GetString(raw);
    }
}

/// <summary>Turns engine updates into <c>chat.completion.chunk</c> objects, OpenAI's way.</summary>
internal sealed class ChatChunkWriter(ChatCall call, LocalChatModel model, GenerationStream stream)
{
    private readonly string _id = ChatIds.NewCompletionId();
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly bool _includeUsage = call.Request.IncludeUsage;

    /// <summary>The first chunk of every choice: the assistant role and empty content.</summary>
    public IEnumerable<ChatCompletionChunk> Opening()
    {
        for (var i = 0; i < stream.ChoiceCount; i++)
        {
            yield return Chunk(new ChatChunkChoice { Index = i, Delta = new ChatDelta { Role = "assistant", Content = string.Empty } });
        }
    }

    /// <summary>The chunks of one update: its text (with logprobs), then, when it is the last, an empty delta with the finish reason.</summary>
    public IEnumerable<ChatCompletionChunk> Update(GenerationUpdate update)
    {
        if (update.Text.Length > 0 || update.Logprobs is { Count: > 0 })
        {
            yield return Chunk(new ChatChunkChoice
            {
                Index = update.ChoiceIndex,
                Delta = new ChatDelta { Content = update.Text },
                Logprobs = update.Logprobs is null ? null : ChatResponseMapper.Logprobs(model, update.Logprobs),
            });
        }

        if (update.FinishReason is { } finish)
        {
            yield return Chunk(new ChatChunkChoice { Index = update.ChoiceIndex, Delta = new ChatDelta(), FinishReason = ChatResponseMapper.FinishReason(finish) });
        }
    }

    /// <summary>The usage chunk (empty choices) when <c>stream_options.include_usage</c> is set, else null.</summary>
    public ChatCompletionChunk? Closing() => _includeUsage
        ? new ChatCompletionChunk
        {
            Id = _id,
            Created = _created,
            Model = call.ResponseModel,
            SystemFingerprint = model.SystemFingerprint,
            Choices = [],
            Usage = CompletionUsage.Create(stream.PromptTokens, stream.CompletionTokens),
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
