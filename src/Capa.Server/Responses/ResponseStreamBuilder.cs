using System.Text;
using System.Text.Json;
using Capa.Protocol;
using Capa.Protocol.Responses;
using Capa.Storage;

namespace Capa.Server.Responses;

/// <summary>
/// Turns a chat completion stream into the Responses event stream, in OpenAI's order, and keeps the response those
/// events describe: accumulating the events gives exactly <see cref="Response"/>. Text opens a message item with one
/// <c>output_text</c> part; each tool call is a <c>function_call</c> item of its own. Never thread-safe.
/// </summary>
internal sealed class ResponseStreamBuilder
{
    private readonly List<ResponseItem> _output = [];
    private readonly List<ResponseStreamEvent> _pending = [];
    private readonly bool _logprobs;
    private long _sequence;

    // The open message, if any.
    private int _messageIndex = -1;
    private string? _messageId;
    private readonly StringBuilder _text = new();
    private readonly List<JsonElement> _textLogprobs = [];

    // The open function call, if any, by its index in the chat stream.
    private int _callChatIndex = -1;
    private int _callIndex = -1;
    private ResponseItem? _call;
    private readonly StringBuilder _arguments = new();

    // A file search run before the model, reported right after the response starts; its files are cited on the message.
    private ResponseItem? _fileSearch;
    private IReadOnlyList<JsonElement> _citations = [];

    private string? _finishReason;
    private CompletionUsage? _usage;

    public ResponseStreamBuilder(ResponseObject initial, bool logprobs, long firstSequence = 0)
    {
        Response = initial;
        _logprobs = logprobs;
        _sequence = firstSequence;
    }

    /// <summary>The response as the events so far describe it.</summary>
    public ResponseObject Response { get; private set; }

    /// <summary>The events of a response that starts running: <c>response.created</c>, <c>response.in_progress</c>.</summary>
    public IReadOnlyList<ResponseStreamEvent> Start()
    {
        Response = Response with { Status = ResponseStatuses.InProgress };
        Emit(new ResponseStreamEvent { Type = ResponseEventTypes.Created, SequenceNumber = 0, Response = Response });
        Emit(new ResponseStreamEvent { Type = ResponseEventTypes.InProgress, SequenceNumber = 0, Response = Response });
        if (_fileSearch is { } search)
        {
            var index = _output.Count;
            _output.Add(search);
            Emit(new ResponseStreamEvent { Type = ResponseEventTypes.OutputItemAdded, SequenceNumber = 0, OutputIndex = index, Item = search with { Status = ResponseStatuses.InProgress, Results = null } });
            Emit(new ResponseStreamEvent { Type = ResponseEventTypes.FileSearchCallInProgress, SequenceNumber = 0, OutputIndex = index, ItemId = search.Id });
            Emit(new ResponseStreamEvent { Type = ResponseEventTypes.FileSearchCallSearching, SequenceNumber = 0, OutputIndex = index, ItemId = search.Id });
            Emit(new ResponseStreamEvent { Type = ResponseEventTypes.FileSearchCallCompleted, SequenceNumber = 0, OutputIndex = index, ItemId = search.Id });
            Emit(new ResponseStreamEvent { Type = ResponseEventTypes.OutputItemDone, SequenceNumber = 0, OutputIndex = index, Item = search });
        }

        return Drain();
    }

    /// <summary>
    /// A <c>file_search_call</c> the server ran before the model: output first, with its events after
    /// <c>response.in_progress</c>; <paramref name="citations"/> (<c>file_citation</c> annotations) go on the message text.
    /// </summary>
    public void SetFileSearch(ResponseItem call, IReadOnlyList<JsonElement> citations)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(citations);
        _fileSearch = call;
        _citations = citations;
    }

    /// <summary>The events one chat chunk adds.</summary>
    public IReadOnlyList<ResponseStreamEvent> Add(ChatCompletionChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (chunk.Usage is { } usage)
        {
            _usage = usage;
        }

        foreach (var choice in chunk.Choices)
        {
            if (choice.Index != 0)
            {
                continue;
            }

            if (choice.Delta.ToolCalls is { } calls)
            {
                foreach (var call in calls)
                {
                    AddToolCall(call);
                }
            }

            if (!string.IsNullOrEmpty(choice.Delta.Content))
            {
                AddText(choice.Delta.Content, choice.Logprobs?.Content);
            }

            if (choice.FinishReason is { } reason)
            {
                _finishReason = reason;
            }
        }

        return Drain();
    }

    /// <summary>Closes open items and ends the response: <c>response.completed</c>, or <c>response.incomplete</c> when cut by the token limit.</summary>
    public IReadOnlyList<ResponseStreamEvent> Finish(long completedAt)
    {
        var incomplete = _finishReason == FinishReasons.Length;
        CloseMessage(incomplete);
        CloseCall(incomplete);
        Response = Response with
        {
            Status = incomplete ? ResponseStatuses.Incomplete : ResponseStatuses.Completed,
            CompletedAt = incomplete ? null : completedAt,
            IncompleteDetails = incomplete ? new IncompleteDetails { Reason = "max_output_tokens" } : null,
            Output = [.. _output],
            Usage = ResponseUsage.FromCompletion(_usage),
        };
        Emit(new ResponseStreamEvent { Type = incomplete ? ResponseEventTypes.Incomplete : ResponseEventTypes.Completed, SequenceNumber = 0, Response = Response });
        return Drain();
    }

    /// <summary>Ends the response as failed: an <c>error</c> event, then <c>response.failed</c>.</summary>
    public IReadOnlyList<ResponseStreamEvent> Fail(ApiError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        Emit(ResponseStreamEvent.FromError(0, error));
        Response = Response with
        {
            Status = ResponseStatuses.Failed,
            Error = new ResponseErrorInfo { Code = error.Code ?? error.Type, Message = error.Message },
            Output = [.. _output],
            Usage = null,
        };
        Emit(new ResponseStreamEvent { Type = ResponseEventTypes.Failed, SequenceNumber = 0, Response = Response });
        return Drain();
    }

    private void AddText(string text, IReadOnlyList<ChatTokenLogprob>? logprobs)
    {
        CloseCall(incomplete: false);
        if (_messageId is null)
        {
            _messageId = StoreIds.NewMessageId();
            _messageIndex = _output.Count;
            _output.Add(Message(ResponseStatuses.InProgress, []));
            Emit(new ResponseStreamEvent { Type = ResponseEventTypes.OutputItemAdded, SequenceNumber = 0, OutputIndex = _messageIndex, Item = _output[_messageIndex] });
            Emit(new ResponseStreamEvent
            {
                Type = ResponseEventTypes.ContentPartAdded, SequenceNumber = 0, ItemId = _messageId, OutputIndex = _messageIndex, ContentIndex = 0,
                Part = ResponseContentPart.OutputText(string.Empty),
            });
        }

        var converted = _logprobs ? Convert(logprobs) : [];
        _text.Append(text);
        _textLogprobs.AddRange(converted);
        Emit(new ResponseStreamEvent
        {
            Type = ResponseEventTypes.OutputTextDelta, SequenceNumber = 0, ItemId = _messageId, OutputIndex = _messageIndex, ContentIndex = 0,
            Delta = text, Logprobs = converted,
        });
    }

    private void AddToolCall(ChatToolCallDelta delta)
    {
        if (delta.Index != _callChatIndex)
        {
            CloseMessage(incomplete: false);
            CloseCall(incomplete: false);
            _callChatIndex = delta.Index;
            _callIndex = _output.Count;
            _call = new ResponseItem
            {
                Id = StoreIds.NewFunctionCallId(),
                Type = ResponseItemTypes.FunctionCall,
                Status = ResponseStatuses.InProgress,
                Arguments = string.Empty,
                CallId = delta.Id ?? StoreIds.NewCallId(),
                Name = delta.Function?.Name ?? string.Empty,
            };
            _output.Add(_call);
            Emit(new ResponseStreamEvent { Type = ResponseEventTypes.OutputItemAdded, SequenceNumber = 0, OutputIndex = _callIndex, Item = _call });
        }

        if (delta.Function?.Arguments is { Length: > 0 } arguments)
        {
            _arguments.Append(arguments);
            Emit(new ResponseStreamEvent { Type = ResponseEventTypes.FunctionCallArgumentsDelta, SequenceNumber = 0, ItemId = _call!.Id, OutputIndex = _callIndex, Delta = arguments });
        }
    }

    private void CloseMessage(bool incomplete)
    {
        if (_messageId is null)
        {
            return;
        }

        var text = _text.ToString();
        var annotations = _citations.Select(c => Cite(c, text.Length)).ToList();
        for (var i = 0; i < annotations.Count; i++)
        {
            Emit(new ResponseStreamEvent
            {
                Type = ResponseEventTypes.OutputTextAnnotationAdded, SequenceNumber = 0, ItemId = _messageId, OutputIndex = _messageIndex, ContentIndex = 0,
                AnnotationIndex = i, Annotation = annotations[i],
            });
        }

        var part = ResponseContentPart.OutputText(text, [.. _textLogprobs]) with { Annotations = annotations };
        Emit(new ResponseStreamEvent
        {
            Type = ResponseEventTypes.OutputTextDone, SequenceNumber = 0, ItemId = _messageId, OutputIndex = _messageIndex, ContentIndex = 0,
            Text = text, Logprobs = [.. _textLogprobs],
        });
        Emit(new ResponseStreamEvent { Type = ResponseEventTypes.ContentPartDone, SequenceNumber = 0, ItemId = _messageId, OutputIndex = _messageIndex, ContentIndex = 0, Part = part });
        _output[_messageIndex] = Message(incomplete ? ResponseStatuses.Incomplete : ResponseStatuses.Completed, [part]);
        Emit(new ResponseStreamEvent { Type = ResponseEventTypes.OutputItemDone, SequenceNumber = 0, OutputIndex = _messageIndex, Item = _output[_messageIndex] });
        _messageId = null;
        _messageIndex = -1;
        _text.Clear();
        _textLogprobs.Clear();
    }

    private void CloseCall(bool incomplete)
    {
        if (_call is null)
        {
            return;
        }

        var arguments = _arguments.ToString();
        Emit(new ResponseStreamEvent
        {
            Type = ResponseEventTypes.FunctionCallArgumentsDone, SequenceNumber = 0, ItemId = _call.Id, OutputIndex = _callIndex, Name = _call.Name, Arguments = arguments,
        });
        _output[_callIndex] = _call with { Status = incomplete ? ResponseStatuses.Incomplete : ResponseStatuses.Completed, Arguments = arguments };
        Emit(new ResponseStreamEvent { Type = ResponseEventTypes.OutputItemDone, SequenceNumber = 0, OutputIndex = _callIndex, Item = _output[_callIndex] });
        _call = null;
        _callIndex = -1;
        _arguments.Clear();
    }

    /// <summary>A citation placed at <paramref name="index"/> in the text (the end: the answer as a whole draws on the file).</summary>
    private static JsonElement Cite(JsonElement citation, int index)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(citation.GetRawText())!.AsObject();
        node["index"] = index;
        return JsonDocument.Parse(node.ToJsonString()).RootElement.Clone();
    }

    private ResponseItem Message(string status, IReadOnlyList<ResponseContentPart> content) => new()
    {
        Id = _messageId,
        Type = ResponseItemTypes.Message,
        Status = status,
        Content = content,
        Role = "assistant",
    };

    private static List<JsonElement> Convert(IReadOnlyList<ChatTokenLogprob>? logprobs)
    {
        var list = new List<JsonElement>();
        if (logprobs is null)
        {
            return list;
        }

        foreach (var token in logprobs)
        {
            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = CapaJsonContext.WireEncoder }))
            {
                w.WriteStartObject();
                w.WriteString("token"u8, token.Token);
                w.WriteNumber("logprob"u8, token.Logprob);
                WriteBytes(w, token.Bytes);
                w.WriteStartArray("top_logprobs"u8);
                foreach (var top in token.TopLogprobs)
                {
                    w.WriteStartObject();
                    w.WriteString("token"u8, top.Token);
                    w.WriteNumber("logprob"u8, top.Logprob);
                    WriteBytes(w, top.Bytes);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            list.Add(JsonElement.Parse(stream.ToArray()));
        }

        return list;
    }

    private static void WriteBytes(Utf8JsonWriter w, IReadOnlyList<int>? bytes)
    {
        w.WriteStartArray("bytes"u8);
        foreach (var b in bytes ?? [])
        {
            w.WriteNumberValue(b);
        }

        w.WriteEndArray();
    }

    private void Emit(ResponseStreamEvent item) => _pending.Add(item with { SequenceNumber = _sequence++ });

    private ResponseStreamEvent[] Drain()
    {
        var events = _pending.ToArray();
        _pending.Clear();
        return events;
    }
}
