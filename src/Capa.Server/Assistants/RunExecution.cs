using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.Protocol;
using Capa.Protocol.Assistants;
using Capa.Protocol.Responses;
using Capa.Storage;
using static Capa.Server.Assistants.AssistantsHttp;

namespace Capa.Server.Assistants;

/// <summary>
/// One model turn of a run, seen through the Responses events it produces: each event becomes the Assistants objects
/// and events it means (a message and its <c>message_creation</c> step, <c>thread.message.delta</c>, a
/// <c>tool_calls</c> step and its deltas), and at the end the run completes, stops for tool outputs, or ends
/// incomplete or failed. Collects the objects and events of each chunk for one atomic write. Never thread-safe.
/// </summary>
internal sealed class RunExecution
{
    private readonly List<StoredAssistantObject> _objects = [];
    private readonly List<StoredEvent> _events = [];
    private readonly Func<long> _now;
    private long _sequence;

    // The open message and its step.
    private MessageObject? _message;
    private RunStepObject? _messageStep;
    private readonly StringBuilder _text = new();

    // The tool_calls step of this turn, with its calls in order.
    private RunStepObject? _toolStep;
    private readonly List<JsonObject> _calls = [];
    private readonly Dictionary<string, int> _callIndexes = new(StringComparer.Ordinal);

    // Files the turn's file search found: file_citation annotations on the message.
    private IReadOnlyList<string> _citedFiles = [];

    public RunExecution(RunObject run, long nextSequence, Func<long> now)
    {
        Run = run;
        _sequence = nextSequence;
        _now = now;
    }

    /// <summary>The run as the events so far describe it.</summary>
    public RunObject Run { get; private set; }

    /// <summary>The next event's sequence number.</summary>
    public long NextSequence => _sequence;

    /// <summary>Adds an event of an object.</summary>
    public void Emit(string name, string dataJson) =>
        _events.Add(new StoredEvent(_sequence++, string.Concat("{\"event\":\"", name, "\",\"data\":", dataJson, "}")));

    /// <summary>Sets the run and announces it with an event.</summary>
    public void SetRun(RunObject run, string? eventName)
    {
        Run = run;
        if (eventName is not null)
        {
            Emit(eventName, Json(run, AssistantsJsonContext.Default.RunObject));
        }
    }

    /// <summary>The objects and events collected since the last call.</summary>
    public (List<StoredAssistantObject> Objects, List<StoredEvent> Events) Drain()
    {
        var result = (_objects.ToList(), _events.ToList());
        _objects.Clear();
        _events.Clear();
        return result;
    }

    /// <summary>Translates the Responses events of one chunk.</summary>
    public void Add(IEnumerable<ResponseStreamEvent> events)
    {
        foreach (var item in events)
        {
            switch (item.Type)
            {
                case ResponseEventTypes.OutputItemAdded when item.Item?.Type == ResponseItemTypes.Message:
                    OpenMessage();
                    break;
                case ResponseEventTypes.OutputTextDelta when _message is not null && !string.IsNullOrEmpty(item.Delta):
                    _text.Append(item.Delta);
                    Emit("thread.message.delta", MessageDelta(_message.Id, item.Delta));
                    break;
                case ResponseEventTypes.OutputItemDone when item.Item?.Type == ResponseItemTypes.Message:
                    CloseMessage(item.Item.Status == ResponseStatuses.Incomplete ? "max_tokens" : null);
                    break;
                case ResponseEventTypes.OutputItemAdded when item.Item?.Type == ResponseItemTypes.FunctionCall:
                    OpenCall(item.Item);
                    break;
                case ResponseEventTypes.FunctionCallArgumentsDelta when _toolStep is not null && item.ItemId is { } itemId && _callIndexes.TryGetValue(itemId, out var index):
                    var function = _calls[index]["function"]!.AsObject();
                    function["arguments"] = function["arguments"]!.GetValue<string>() + item.Delta;
                    Emit("thread.run.step.delta", StepDelta(_toolStep.Id, index, null, null, item.Delta));
                    break;
                case ResponseEventTypes.OutputItemDone when item.Item?.Type == ResponseItemTypes.FunctionCall && item.Item.Id is { } doneId && _callIndexes.TryGetValue(doneId, out var done):
                    _calls[done]["function"]!.AsObject()["arguments"] = item.Item.Arguments ?? string.Empty;
                    _toolStep = _toolStep! with { StepDetails = ToolDetails() };
                    _objects.Add(Stored(_toolStep));
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>
    /// Ends the model turn: the run completes, stops for tool outputs (its tool step stays in progress), or ends
    /// incomplete, with the turn's usage added.
    /// </summary>
    public void Finish(ResponseObject response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var incomplete = response.Status == ResponseStatuses.Incomplete;
        CloseMessage(incomplete ? "max_tokens" : null);
        var usage = ToUsage(response.Usage);
        var total = Run.Usage is { } sofar ? sofar + usage : usage;
        var now = _now();
        if (_toolStep is not null && !incomplete)
        {
            var calls = new JsonArray();
            foreach (var call in _calls)
            {
                var function = call["function"]!.AsObject();
                calls.Add(new JsonObject
                {
                    ["id"] = call["id"]!.GetValue<string>(),
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = function["name"]!.GetValue<string>(), ["arguments"] = function["arguments"]!.GetValue<string>() },
                });
            }

            var action = new JsonObject { ["type"] = "submit_tool_outputs", ["submit_tool_outputs"] = new JsonObject { ["tool_calls"] = calls } };
            _toolStep = _toolStep with { StepDetails = ToolDetails(), Usage = usage };
            _objects.Add(Stored(_toolStep));
            SetRun(Run with
            {
                Status = RunStatuses.RequiresAction,
                RequiredAction = JsonElement.Parse(action.ToJsonString()),
                ExpiresAt = now + (long)RunExecutor.ToolOutputsTimeout.TotalSeconds,
                Usage = total,
            }, "thread.run.requires_action");
            return;
        }

        if (_toolStep is not null)
        {
            FinishStep(ref _toolStep, "cancelled", now, null);
        }

        SetRun(Run with
        {
            Status = incomplete ? RunStatuses.Incomplete : RunStatuses.Completed,
            CompletedAt = incomplete ? null : now,
            IncompleteDetails = incomplete ? JsonElement.Parse("""{"reason":"max_completion_tokens"}""") : null,
            RequiredAction = null,
            Usage = total,
        }, incomplete ? "thread.run.incomplete" : "thread.run.completed");
    }

    /// <summary>Ends the run as failed: open steps fail, the open message is incomplete.</summary>
    public void Fail(RunError error, ResponseObject? response)
    {
        var now = _now();
        var error2 = error;
        CloseMessage("run_failed");
        if (_toolStep is not null)
        {
            FinishStep(ref _toolStep, "failed", now, error2);
        }

        var usage = response?.Usage is { } u ? ToUsage(u) : null;
        SetRun(Run with
        {
            Status = RunStatuses.Failed,
            FailedAt = now,
            LastError = error2,
            RequiredAction = null,
            Usage = usage is null ? Run.Usage ?? new RunUsage() : (Run.Usage is { } sofar ? sofar + usage : usage),
        }, "thread.run.failed");
    }

    /// <summary>
    /// Records a <c>file_search</c> tool call that ran before the model: a <c>tool_calls</c> step, completed at once,
    /// with the ranking options and the results (file, name, score; the text stays with the model).
    /// </summary>
    public void AddFileSearch(string ranker, double scoreThreshold, IEnumerable<(string FileId, string FileName, double Score)> results)
    {
        var now = _now();
        var list = new JsonArray();
        foreach (var (fileId, fileName, score) in results)
        {
            list.Add(new JsonObject { ["file_id"] = fileId, ["file_name"] = fileName, ["score"] = Math.Clamp(score, 0, 1) });
        }

        var call = new JsonObject
        {
            ["id"] = StoreIds.NewCallId(),
            ["type"] = "file_search",
            ["file_search"] = new JsonObject
            {
                ["ranking_options"] = new JsonObject { ["ranker"] = ranker, ["score_threshold"] = scoreThreshold },
                ["results"] = list,
            },
        };
        RunStepObject? step = NewStep("tool_calls", JsonElement.Parse(new JsonObject { ["type"] = "tool_calls", ["tool_calls"] = new JsonArray(call) }.ToJsonString()), now);
        _objects.Add(Stored(step));
        Emit("thread.run.step.created", Json(step, AssistantsJsonContext.Default.RunStepObject));
        Emit("thread.run.step.in_progress", Json(step, AssistantsJsonContext.Default.RunStepObject));
        FinishStep(ref step, "completed", now, null);
    }

    /// <summary>The files the answer draws on: each becomes a <c>file_citation</c> annotation on the message text.</summary>
    public void CiteFiles(IReadOnlyList<string> fileIds) => _citedFiles = fileIds;

    private void OpenMessage()
    {
        var now = _now();
        _message = new MessageObject
        {
            Id = StoreIds.NewMessageId(),
            CreatedAt = now,
            AssistantId = Run.AssistantId,
            ThreadId = Run.ThreadId,
            RunId = Run.Id,
            Role = "assistant",
            Status = "in_progress",
        };
        _messageStep = NewStep("message_creation", JsonElement.Parse($$$"""{"type":"message_creation","message_creation":{"message_id":"{{{_message.Id}}}"}}"""), now);
        _text.Clear();
        _objects.Add(Stored(_messageStep));
        _objects.Add(Stored(_message));
        Emit("thread.run.step.created", Json(_messageStep, AssistantsJsonContext.Default.RunStepObject));
        Emit("thread.run.step.in_progress", Json(_messageStep, AssistantsJsonContext.Default.RunStepObject));
        Emit("thread.message.created", Json(_message, AssistantsJsonContext.Default.MessageObject));
        Emit("thread.message.in_progress", Json(_message, AssistantsJsonContext.Default.MessageObject));
    }

    private void CloseMessage(string? incompleteReason)
    {
        if (_message is null || _messageStep is null)
        {
            return;
        }

        var now = _now();
        var incomplete = incompleteReason is not null;
        _message = _message with
        {
            Status = incomplete ? "incomplete" : "completed",
            Content = [AssistantRequestReader.TextPart(_text.ToString(), Citations(_text.Length))],
            CompletedAt = incomplete ? null : now,
            IncompleteAt = incomplete ? now : null,
            IncompleteDetails = incomplete ? JsonElement.Parse($$"""{"reason":"{{incompleteReason}}"}""") : null,
        };
        _objects.Add(Stored(_message));
        Emit(incomplete ? "thread.message.incomplete" : "thread.message.completed", Json(_message, AssistantsJsonContext.Default.MessageObject));
        var step = _messageStep;
        FinishStep(ref step, incompleteReason == "run_failed" ? "failed" : "completed", now, null);
        _message = null;
        _messageStep = null;
    }

    /// <summary>
    /// The <c>file_citation</c> annotations of the message: the model's text carries no source markers, so each cites
    /// the empty span at the end of the text (start = end = its length), the way the Responses API's citations sit.
    /// </summary>
    private List<JsonElement> Citations(int length) => _citedFiles
        .Select(fileId => JsonElement.Parse(new JsonObject
        {
            ["type"] = "file_citation",
            ["text"] = "",
            ["file_citation"] = new JsonObject { ["file_id"] = fileId },
            ["start_index"] = length,
            ["end_index"] = length,
        }.ToJsonString()))
        .ToList();

    private void OpenCall(ResponseItem call)
    {
        var now = _now();
        if (_toolStep is null)
        {
            _toolStep = NewStep("tool_calls", ToolDetails(), now);
            _objects.Add(Stored(_toolStep));
            Emit("thread.run.step.created", Json(_toolStep, AssistantsJsonContext.Default.RunStepObject));
            Emit("thread.run.step.in_progress", Json(_toolStep, AssistantsJsonContext.Default.RunStepObject));
        }

        var index = _calls.Count;
        var callId = call.CallId ?? StoreIds.NewCallId();
        _calls.Add(new JsonObject
        {
            ["id"] = callId,
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = call.Name ?? string.Empty, ["arguments"] = string.Empty, ["output"] = null },
        });
        _callIndexes[call.Id!] = index;
        _toolStep = _toolStep with { StepDetails = ToolDetails() };
        _objects.Add(Stored(_toolStep));
        Emit("thread.run.step.delta", StepDelta(_toolStep.Id, index, callId, call.Name ?? string.Empty, string.Empty));
    }

    private void FinishStep(ref RunStepObject? step, string status, long now, RunError? error)
    {
        if (step is null)
        {
            return;
        }

        step = step with
        {
            Status = status,
            CompletedAt = status == "completed" ? now : null,
            CancelledAt = status == "cancelled" ? now : null,
            FailedAt = status == "failed" ? now : null,
            LastError = error,
        };
        _objects.Add(Stored(step));
        Emit("thread.run.step." + status, Json(step, AssistantsJsonContext.Default.RunStepObject));
    }

    private RunStepObject NewStep(string type, JsonElement details, long now) => new()
    {
        Id = StoreIds.New("step_"),
        CreatedAt = now,
        AssistantId = Run.AssistantId,
        ThreadId = Run.ThreadId,
        RunId = Run.Id,
        Type = type,
        Status = "in_progress",
        StepDetails = details,
    };

    private JsonElement ToolDetails()
    {
        var calls = new JsonArray();
        foreach (var call in _calls)
        {
            calls.Add(call.DeepClone());
        }

        return JsonElement.Parse(new JsonObject { ["type"] = "tool_calls", ["tool_calls"] = calls }.ToJsonString());
    }

    private static RunUsage ToUsage(ResponseUsage? usage) => usage is null
        ? new RunUsage()
        : new RunUsage { PromptTokens = usage.InputTokens, CompletionTokens = usage.OutputTokens, TotalTokens = usage.TotalTokens };

    private static string MessageDelta(string id, string text)
    {
        var delta = new JsonObject
        {
            ["id"] = id,
            ["object"] = "thread.message.delta",
            ["delta"] = new JsonObject
            {
                ["content"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["type"] = "text",
                    ["text"] = new JsonObject { ["value"] = text, ["annotations"] = new JsonArray() },
                }),
            },
        };
        return delta.ToJsonString(WireOptions);
    }

    private static string StepDelta(string stepId, int index, string? callId, string? name, string? arguments)
    {
        var function = new JsonObject();
        if (name is not null)
        {
            function["name"] = name;
        }

        function["arguments"] = arguments ?? string.Empty;
        if (callId is not null)
        {
            function["output"] = null;
        }

        var call = new JsonObject { ["index"] = index };
        if (callId is not null)
        {
            call["id"] = callId;
        }

        call["type"] = "function";
        call["function"] = function;
        var delta = new JsonObject
        {
            ["id"] = stepId,
            ["object"] = "thread.run.step.delta",
            ["delta"] = new JsonObject { ["step_details"] = new JsonObject { ["type"] = "tool_calls", ["tool_calls"] = new JsonArray(call) } },
        };
        return delta.ToJsonString(WireOptions);
    }

    internal static readonly JsonSerializerOptions WireOptions = new() { Encoder = CapaJsonContext.WireEncoder };
}
