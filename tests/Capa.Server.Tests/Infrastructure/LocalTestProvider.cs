using System.Runtime.CompilerServices;
using Capa.Protocol;
using Capa.Server.Routing;

namespace Capa.Server.Tests.Infrastructure;

/// <summary>
/// A stand-in for the local engine: <c>local-chat</c> and <c>local-vision</c> answer "local answer" (streamed word by
/// word), <c>local-image</c> only generates images, <c>local-crash</c> fails with an internal exception,
/// <c>local-fail-mid</c> streams one chunk and then fails with a 503, <c>local-endless</c> keeps generating until cancelled
/// (at most 30 s). Without a request seed the seed used is 4242.
/// </summary>
public sealed class LocalTestProvider : IChatProvider
{
    public const string CrashSecret = "secret internal detail /home/capa/engine.cs";

    private static readonly IReadOnlyList<ProviderModel> Models =
    [
        new("local-chat", ModelCapabilities.Chat | ModelCapabilities.Json) { Created = 1_700_000_000 },
        new("local-crash", ModelCapabilities.Chat),
        new("local-fail-mid", ModelCapabilities.Chat),
        new("local-image", ModelCapabilities.Image),
        new("local-vision", ModelCapabilities.Chat | ModelCapabilities.Vision),
        new("local-endless", ModelCapabilities.Chat),
        new("onnx-community/Qwen2.5-0.5B-Instruct", ModelCapabilities.Chat | ModelCapabilities.Json | ModelCapabilities.Tools),
    ];

    /// <summary>The last call per <c>user</c> tag.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, ChatCall> Calls { get; } = new();

    public string Name => "local";

    public ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Models);

    public async Task<ChatCompletionResult> CompleteAsync(ChatCall call, CancellationToken cancellationToken)
    {
        Record(call);
        if (call.TargetModel == "local-endless")
        {
            await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
        }

        return ChatCompletionResult.FromResponse(new ChatCompletionResponse
        {
            Id = ChatIds.NewCompletionId(),
            Created = 1_700_000_001,
            Model = call.ResponseModel,
            SystemFingerprint = "fp_local",
            Choices =
            [
                new ChatChoice
                {
                    Index = 0,
                    Message = new ChatResponseMessage { Content = "local answer" },
                    FinishReason = "stop",
                },
            ],
            Usage = CompletionUsage.Create(4, 2),
        });
    }

    public async IAsyncEnumerable<ChatStreamEvent> StreamAsync(ChatCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Record(call);
        await Task.Yield();
        var id = ChatIds.NewCompletionId();
        ChatCompletionChunk Chunk(ChatDelta delta, string? finish) => new()
        {
            Id = id,
            Created = 1_700_000_001,
            Model = call.ResponseModel,
            SystemFingerprint = "fp_local",
            Choices = [new ChatChunkChoice { Index = 0, Delta = delta, FinishReason = finish }],
        };

        yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta { Role = "assistant", Content = "" }, null));
        if (call.TargetModel == "local-fail-mid")
        {
            throw new ChatProviderException(ApiError.Overloaded());
        }

        for (var i = 0; call.TargetModel == "local-endless" && i < 1500; i++)
        {
            await Task.Delay(20, cancellationToken);
            yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta { Content = " more" }, null));
        }

        yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta { Content = "local" }, null));
        yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta { Content = " answer" }, null));
        yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta(), "stop"));
        if (call.Request.IncludeUsage)
        {
            yield return ChatStreamEvent.FromChunk(new ChatCompletionChunk
            {
                Id = id,
                Created = 1_700_000_001,
                Model = call.ResponseModel,
                SystemFingerprint = "fp_local",
                Choices = [],
                Usage = CompletionUsage.Create(4, 2),
            });
        }
    }

    private void Record(ChatCall call)
    {
        if (call.TargetModel == "local-crash")
        {
            throw new InvalidOperationException(CrashSecret);
        }

        call.SeedUsed = call.Request.Seed ?? 4242;
        Calls[call.Request.User ?? ""] = call;
    }
}
