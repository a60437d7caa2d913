using Capa.Protocol;
using Capa.Protocol.Responses;
using Capa.Server.Routing;

namespace Capa.Server.Responses;

/// <summary>
/// Starts a response's model call. With <c>truncation: "auto"</c>, a context that does not fit the model's window
/// is cut from the beginning, as OpenAI's: the earliest turns of the earlier conversation (previous responses or the
/// conversation's items) are dropped, one user turn at a time, until the rest fits. The new input is never dropped,
/// nor the file search excerpts for it; with <c>disabled</c> (the default) the call fails with
/// <c>context_length_exceeded</c>. Truncation changes only what the model reads, never what is stored.
/// </summary>
internal sealed class ResponseChatAttempts
{
    private readonly IChatProvider _provider;
    private readonly ChatCall _first;
    private readonly CreateResponseRequest _request;
    private readonly IReadOnlyList<ResponseItem> _history;
    private readonly IReadOnlyList<(int Dropped, Func<ChatCall?> Build)> _shorter;

    private ResponseChatAttempts(IChatProvider provider, ChatCall first, CreateResponseRequest request, IReadOnlyList<ResponseItem> history, IReadOnlyList<(int Dropped, Func<ChatCall?> Build)> shorter)
    {
        _provider = provider;
        _first = first;
        _request = request;
        _history = history;
        _shorter = shorter;
    }

    /// <summary>How many earlier items the call that started dropped (0 when the whole context fit).</summary>
    public int DroppedItems { get; private set; }

    // Which call was tried last: 0 for the whole context, else 1 + its index in _shorter.
    private int _tried;

    /// <summary>The attempts for a request whose full call is <paramref name="call"/>.</summary>
    /// <param name="provider">The routed provider.</param>
    /// <param name="call">The call with the whole context.</param>
    /// <param name="request">The request (its <c>truncation</c> decides whether shorter calls are tried).</param>
    /// <param name="history">The earlier items, oldest first, then the <paramref name="keptTail"/> items that are never dropped.</param>
    /// <param name="keptTail">How many items at the end of <paramref name="history"/> are never dropped (the file search excerpts).</param>
    /// <param name="rebuild">Builds the call for a shorter history (null when that history does not make a valid request).</param>
    public static ResponseChatAttempts Create(IChatProvider provider, ChatCall call, CreateResponseRequest request, IReadOnlyList<ResponseItem> history, int keptTail, Func<IReadOnlyList<ResponseItem>, ChatCall?> rebuild)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(rebuild);
        var shorter = new List<(int, Func<ChatCall?>)>();
        var droppable = history.Count - keptTail;
        if (request.Truncation == "auto" && droppable > 0)
        {
            // Cut only where a user turn starts, so a function's output is never read without its call; last, drop it all.
            var cuts = Enumerable.Range(1, droppable - 1).Where(i => IsUserMessage(history[i])).Append(droppable);
            foreach (var cut in cuts)
            {
                shorter.Add((cut, () => rebuild([.. history.Skip(cut)])));
            }
        }

        return new ResponseChatAttempts(provider, call, request, history, shorter);
    }

    /// <summary>
    /// A chat error of the call that started (or of the last one tried) with its parameter named as the Responses
    /// request spells it, down to the input item and content part.
    /// </summary>
    public ApiError ToResponsesError(ApiError chatError) =>
        ResponsesChatRequest.ToResponsesError(chatError, _request, _tried == 0 ? _history : [.. _history.Skip(_shorter[_tried - 1].Dropped)]);

    private static bool IsUserMessage(ResponseItem item) =>
        item.Type is null or ResponseItemTypes.Message && item.Role == "user";

    /// <summary>
    /// Opens the model's stream and reads its first event: with the whole context, then (when truncation is auto and
    /// the context is too long) with less, until one fits. Errors other than a too-long context end the attempts.
    /// </summary>
    public async Task<(IAsyncEnumerator<ChatStreamEvent> Chunks, bool More)> OpenAsync(CancellationToken cancellationToken)
    {
        var call = _first;
        var next = 0;
        while (true)
        {
            var chunks = _provider.StreamAsync(call, cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                var more = await chunks.MoveNextAsync().ConfigureAwait(false);
                DroppedItems = next == 0 ? 0 : _shorter[next - 1].Dropped;
                return (chunks, more);
            }
            catch (ChatProviderException e) when (e.Error.Code == "context_length_exceeded" && NextCall(ref next) is { } shorter)
            {
                await chunks.DisposeAsync().ConfigureAwait(false);
                call = shorter;
                _tried = next;
            }
            catch
            {
                await chunks.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    private ChatCall? NextCall(ref int next)
    {
        while (next < _shorter.Count)
        {
            if (_shorter[next++].Build() is { } call)
            {
                return call;
            }
        }

        return null;
    }
}
