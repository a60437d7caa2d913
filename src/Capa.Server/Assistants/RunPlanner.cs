using System.Buffers;
using System.Text.Json;
using Capa.Protocol;
using Capa.Protocol.Assistants;
using Capa.Protocol.Responses;
using Capa.Server.Configuration;
using Capa.Server.Routing;

namespace Capa.Server.Assistants;

/// <summary>A run turned into one model call: the routed provider and the chat call built by the Responses machinery.</summary>
/// <param name="Provider">The provider serving the run's model.</param>
/// <param name="Call">The chat call.</param>
/// <param name="Request">The Responses request the call was built from.</param>
internal sealed record RunPlan(IChatProvider Provider, ChatCall Call, CreateResponseRequest Request);

/// <summary>
/// Turns a run into a Responses request (<c>/v1/responses</c>' body, read and validated by its own reader) and that into
/// the chat call that executes it, so a run is a response: the same context building, tools, structured output and
/// constraints. The thread's messages become input messages, the run's earlier tool calls and outputs become
/// <c>function_call</c> and <c>function_call_output</c> items, the assistant's tools and <c>response_format</c> become
/// the response's flat function tools and <c>text.format</c>. Errors name the Assistants parameter at fault.
/// </summary>
internal sealed class RunPlanner(ServerSettings settings, ModelRouter router)
{
    private readonly ChatRequestLimits _limits = ChatRequestLimits.Default with
    {
        MaxBodyBytes = int.MaxValue,
        MaxDepth = settings.MaxJsonDepth,
        MaxMessages = int.MaxValue,
    };

    /// <summary>A turn of a run's conversation: a message, or the tool calls of a step with their outputs.</summary>
    public sealed record Turn(string Role, string? Text, IReadOnlyList<ToolCallTurn>? Calls);

    /// <summary>A function call of a run step and its output, if submitted.</summary>
    public sealed record ToolCallTurn(string CallId, string Name, string Arguments, string? Output);

    // The probe's text names JSON so that a json_object format is judged on its own; a run's real messages must name it.

    /// <summary>Validates what an assistant or run will send to a model (model, tools, format) without running it.</summary>
    public async ValueTask<ApiError?> ValidateAsync(string model, IReadOnlyList<JsonElement> tools, JsonElement responseFormat, JsonElement toolChoice, CancellationToken cancellationToken)
    {
        var (_, error) = await PlanAsync(
            new RunObject { Id = "run_validate", CreatedAt = 0, AssistantId = "", ThreadId = "", Status = "queued", Model = model, Tools = tools, ResponseFormat = responseFormat, ToolChoice = toolChoice },
            [new Turn("user", "json", null)], null, "validate", cancellationToken).ConfigureAwait(false);
        return error;
    }

    /// <summary>Builds the call for the run's next model turn, or the error that keeps it from running.</summary>
    public async ValueTask<(RunPlan? Plan, ApiError? Error)> PlanAsync(RunObject run, IReadOnlyList<Turn> turns, int? maxOutputTokens, string requestId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.ToolChoice.ValueKind == JsonValueKind.Object && run.ToolChoice.GetProperty("type"u8).ValueEquals("function"u8)
            && run.ToolChoice.GetProperty("function"u8).GetProperty("name"u8).GetString() is { } chosen
            && !Functions(run.Tools).Any(f => f.Function.GetProperty("name"u8).ValueEquals(chosen)))
        {
            return (null, ApiError.InvalidRequest($"Tool choice '{chosen}' not found in 'tools' parameter.", "tool_choice", "invalid_value"));
        }

        if (run.ToolChoice.ValueKind == JsonValueKind.String && run.ToolChoice.ValueEquals("required"u8) && run.Tools.Count == 0)
        {
            return (null, ApiError.InvalidRequest("Tool choice 'required' requires 'tools' to be given.", "tool_choice", "invalid_value"));
        }

        var functionIndexes = new List<int>();
        var body = Write(run, turns, maxOutputTokens, functionIndexes);
        if (!ResponseRequestReader.TryRead(body, _limits, out var request, out var error)
            || !ResponsesChatRequest.TryCreate(request, [], _limits, out var chat, out var chatBody, out error))
        {
            return (null, ToAssistantsError(error, functionIndexes));
        }

        var route = await router.ResolveAsync(run.Model, cancellationToken).ConfigureAwait(false);
        if (route is null)
        {
            return (null, ApiError.ModelNotFound(run.Model));
        }

        if (route.Provider is not IChatProvider provider || (route.Model is { } model && (model.Capabilities & ModelCapabilities.Chat) == 0))
        {
            return (null, ApiError.InvalidRequest($"The model `{run.Model}` does not support assistants.", "model", "model_not_supported"));
        }

        var call = new ChatCall { Request = chat, Body = chatBody, TargetModel = route.TargetModel, ResponseModel = route.RequestedModel, RequestId = requestId };
        return (new RunPlan(provider, call, request), null);
    }

    /// <summary>The run's function tools, in order (other tool types have no place in the chat call).</summary>
    private static IEnumerable<(int Index, JsonElement Function)> Functions(IReadOnlyList<JsonElement> tools)
    {
        for (var i = 0; i < tools.Count; i++)
        {
            if (tools[i].GetProperty("type"u8).ValueEquals("function"u8))
            {
                yield return (i, tools[i].GetProperty("function"u8));
            }
        }
    }

    private static byte[] Write(RunObject run, IReadOnlyList<Turn> turns, int? maxOutputTokens, List<int> functionIndexes)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = CapaJsonContext.WireEncoder }))
        {
            w.WriteStartObject();
            w.WriteString("model"u8, run.Model);
            if (run.Instructions.Length > 0)
            {
                w.WriteString("instructions"u8, run.Instructions);
            }

            w.WriteBoolean("store"u8, false);
            w.WriteStartArray("input"u8);
            foreach (var turn in turns)
            {
                if (turn.Text is { } text)
                {
                    w.WriteStartObject();
                    w.WriteString("type"u8, "message");
                    w.WriteString("role"u8, turn.Role);
                    w.WriteString("content"u8, text);
                    w.WriteEndObject();
                }

                foreach (var call in turn.Calls ?? [])
                {
                    w.WriteStartObject();
                    w.WriteString("type"u8, "function_call");
                    w.WriteString("call_id"u8, call.CallId);
                    w.WriteString("name"u8, call.Name);
                    w.WriteString("arguments"u8, call.Arguments);
                    w.WriteEndObject();
                }

                foreach (var call in turn.Calls ?? [])
                {
                    if (call.Output is { } output)
                    {
                        w.WriteStartObject();
                        w.WriteString("type"u8, "function_call_output");
                        w.WriteString("call_id"u8, call.CallId);
                        w.WriteString("output"u8, output);
                        w.WriteEndObject();
                    }
                }
            }

            w.WriteEndArray();
            var functions = Functions(run.Tools).ToList();
            if (functions.Count > 0)
            {
                w.WriteStartArray("tools"u8);
                foreach (var (index, function) in functions)
                {
                    functionIndexes.Add(index);
                    w.WriteStartObject();
                    w.WriteString("type"u8, "function");
                    foreach (var property in function.EnumerateObject())
                    {
                        property.WriteTo(w);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteBoolean("parallel_tool_calls"u8, run.ParallelToolCalls);
                WriteToolChoice(w, run.ToolChoice);
            }

            WriteFormat(w, run.ResponseFormat);
            if (run.Temperature is { } temperature)
            {
                w.WriteNumber("temperature"u8, temperature);
            }

            if (run.TopP is { } topP)
            {
                w.WriteNumber("top_p"u8, topP);
            }

            if (maxOutputTokens is { } max)
            {
                w.WriteNumber("max_output_tokens"u8, Math.Max(16, max));
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteToolChoice(Utf8JsonWriter w, JsonElement choice)
    {
        if (choice.ValueKind == JsonValueKind.String)
        {
            w.WriteString("tool_choice"u8, choice.GetString());
            return;
        }

        if (choice.ValueKind == JsonValueKind.Object && choice.GetProperty("type"u8).ValueEquals("function"u8))
        {
            w.WriteStartObject("tool_choice"u8);
            w.WriteString("type"u8, "function");
            w.WriteString("name"u8, choice.GetProperty("function"u8).GetProperty("name"u8).GetString());
            w.WriteEndObject();
        }
    }

    private static void WriteFormat(Utf8JsonWriter w, JsonElement format)
    {
        if (format.ValueKind != JsonValueKind.Object)
        {
            return; // "auto": the model's own text.
        }

        w.WriteStartObject("text"u8);
        w.WriteStartObject("format"u8);
        var type = format.GetProperty("type"u8).GetString();
        w.WriteString("type"u8, type);
        if (type == "json_schema")
        {
            foreach (var property in format.GetProperty("json_schema"u8).EnumerateObject())
            {
                property.WriteTo(w);
            }
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>A Responses error with its parameter named as the Assistants request spells it.</summary>
    private static ApiError ToAssistantsError(ApiError error, List<int> functionIndexes)
    {
        string? Rename(string? text)
        {
            if (text is null)
            {
                return null;
            }

            text = System.Text.RegularExpressions.Regex.Replace(text, @"tools\[(\d+)\]\.", m =>
            {
                var index = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                return $"tools[{(index < functionIndexes.Count ? functionIndexes[index] : index)}].function.";
            });
            return text.Replace("text.format.", "response_format.json_schema.", StringComparison.Ordinal)
                .Replace("text.format", "response_format", StringComparison.Ordinal)
                .Replace("max_output_tokens", "max_completion_tokens", StringComparison.Ordinal)
                .Replace("'input'", "'messages'", StringComparison.Ordinal);
        }

        var param = error.Param == "input" ? "messages" : Rename(error.Param);
        return new ApiError(error.Status, Rename(error.Message)!, error.Type, param, error.Code) { RetryAfterSeconds = error.RetryAfterSeconds };
    }
}
