using Capa.Protocol;

namespace Capa.Server.Routing;

/// <summary>
/// Serves chat completions for some model ids. The local engine and upstream endpoints implement it; the server
/// picks one per request through the <see cref="ModelRouter"/>, and handles HTTP, auth, limits and errors itself.
/// </summary>
/// <remarks>
/// <para>Register local providers with <c>services.AddChatProvider&lt;T&gt;()</c>; they are singletons and must be
/// thread-safe. A provider never sees HTTP: it receives a validated request and returns protocol types.</para>
/// <para>The <c>model</c> field of responses and chunks must be <see cref="ChatCall.ResponseModel"/> (the id the client
/// asked for, as OpenAI echoes it), which may be an alias of <see cref="ChatCall.TargetModel"/>.</para>
/// <para>Errors: throw <see cref="ChatProviderException"/> with an OpenAI-shaped error (e.g. 400 for a parameter the
/// model cannot honour, 503 when overloaded). Any other exception becomes a 500 without details.</para>
/// <para>Cancellation: the token fires when the client disconnects; stop the work behind the request promptly.</para>
/// </remarks>
public interface IChatProvider : IModelProvider
{
    /// <summary>Runs a non-streaming completion.</summary>
    Task<ChatCompletionResult> CompleteAsync(ChatCall call, CancellationToken cancellationToken);

    /// <summary>
    /// Runs a streaming completion: one event per <c>chat.completion.chunk</c>, in order, the usage chunk (empty
    /// choices) last when <c>stream_options.include_usage</c> is set. The server writes each event as one SSE
    /// <c>data:</c> line and flushes it at once, then writes <c>data: [DONE]</c> after the last.
    /// </summary>
    /// <remarks>
    /// Start the work lazily, on the first <c>MoveNextAsync</c>: an exception thrown before the first event becomes an
    /// HTTP error response with its status; one thrown later ends the stream with an SSE error event.
    /// </remarks>
    IAsyncEnumerable<ChatStreamEvent> StreamAsync(ChatCall call, CancellationToken cancellationToken);
}
