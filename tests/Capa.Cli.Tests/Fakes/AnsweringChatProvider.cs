using System.Runtime.CompilerServices;
using Capa.Protocol;
using Capa.Server.Routing;

namespace Capa.Cli.Tests.Fakes;

/// <summary>
/// A chat model named <c>echo</c> whose answer is a function of the request it was given, streamed word by word with
/// a stop and a usage chunk: CLI tests see what the server handed the model (chained turns, injected context).
/// </summary>
internal sealed class AnsweringChatProvider(Func<ChatCompletionRequest, string> answer) : IChatProvider
{
    public string Name => "echo";

    public ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<ProviderModel>>([new ProviderModel("echo", ModelCapabilities.Chat)]);

    public Task<ChatCompletionResult> CompleteAsync(ChatCall call, CancellationToken cancellationToken) => throw new NotSupportedException();

    public async IAsyncEnumerable<ChatStreamEvent> StreamAsync(ChatCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        string[] words = answer(call.Request).Split(' ');
        ChatCompletionChunk Chunk(ChatDelta delta, string? finish, CompletionUsage? usage = null) => new()
        {
            Id = "chatcmpl-echo",
            Created = 1,
            Model = call.ResponseModel,
            Choices = usage is null ? [new ChatChunkChoice { Index = 0, Delta = delta, FinishReason = finish }] : [],
            Usage = usage,
        };
        for (int i = 0; i < words.Length; i++)
        {
            yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta { Content = i == 0 ? words[i] : " " + words[i] }, null));
        }

        yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta(), "stop"));
        yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta(), null, CompletionUsage.Create(5, 3)));
    }
}
