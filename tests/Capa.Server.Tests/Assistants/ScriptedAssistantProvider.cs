using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Capa.Protocol;
using Capa.Server.Routing;

namespace Capa.Server.Tests.Assistants;

/// <summary>
/// A model for assistant runs with a script that shows what it received: <c>scripted</c> answers
/// <c>echo: {last user text}</c> (after a tool message: <c>tool said: {tool output}</c>), and when given tools and no
/// tool output yet, calls the first tool with <c>{"city":"上海"}</c> instead. Each call is recorded by its last user text.
/// </summary>
public sealed class ScriptedAssistantProvider : IChatProvider
{
    public const string Model = "scripted";

    public ConcurrentDictionary<string, ChatCall> Calls { get; } = new(StringComparer.Ordinal);

    public string Name => "scripted";

    public ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<ProviderModel>>([new(Model, ModelCapabilities.Chat | ModelCapabilities.Json | ModelCapabilities.Tools)]);

    public Task<ChatCompletionResult> CompleteAsync(ChatCall call, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Runs stream.");

    public async IAsyncEnumerable<ChatStreamEvent> StreamAsync(ChatCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        var messages = call.Request.Messages;
        var lastUser = messages.LastOrDefault(m => m.Role == ChatRole.User)?.GetText() ?? "";
        Calls[lastUser] = call;
        var last = messages[^1];
        var id = ChatIds.NewCompletionId();
        ChatCompletionChunk Chunk(ChatDelta delta, string? finish) => new()
        {
            Id = id,
            Created = 1_700_000_001,
            Model = call.ResponseModel,
            Choices = [new ChatChunkChoice { Index = 0, Delta = delta, FinishReason = finish }],
        };

        if (call.Request.Tools is { Count: > 0 } tools && last.Role != ChatRole.Tool)
        {
            yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta
            {
                Role = "assistant",
                ToolCalls = [new ChatToolCallDelta { Index = 0, Id = "call_" + Guid.NewGuid().ToString("N"), Type = "function", Function = new ChatFunctionCallDelta { Name = tools[0].Name!, Arguments = "{\"city\":" } }],
            }, null));
            yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta { ToolCalls = [new ChatToolCallDelta { Index = 0, Function = new ChatFunctionCallDelta { Arguments = "\"上海\"}" } }] }, null));
            yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta(), "tool_calls"));
        }
        else
        {
            var text = last.Role == ChatRole.Tool ? "tool said: " + last.GetText() : "echo: " + lastUser;
            yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta { Role = "assistant", Content = "" }, null));
            foreach (var piece in text.Split(' '))
            {
                yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta { Content = piece == text.Split(' ')[0] ? piece : " " + piece }, null));
            }

            yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta(), "stop"));
        }

        if (call.Request.IncludeUsage)
        {
            yield return ChatStreamEvent.FromChunk(new ChatCompletionChunk { Id = id, Created = 1_700_000_001, Model = call.ResponseModel, Choices = [], Usage = CompletionUsage.Create(10, 3) });
        }
    }
}
