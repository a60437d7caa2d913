using System.Text;
using System.Text.Json;
using Capa.Constraints.Grammars;
using Capa.Constraints.Runtime;
using Capa.Engine.Text.Constraints;
using Capa.Engine.Text.Generation;
using Capa.Engine.Text.Tools;
using Capa.Protocol;
using Capa.Server.Routing;

namespace Capa.Server.Providers.Local;

/// <summary>
/// What a chat request asks of a local model's output, decided before generation: the constraint to decode under
/// (JSON mode, a JSON schema, forced tool calls) and whether tool calls are to be read from the text. Schema
/// problems become a 400 naming the keyword and its path here, so nothing is ever generated unconstrained.
/// </summary>
internal sealed class ChatOutputPlan
{
    private static readonly JsonElement EmptyParameters = JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement;

    private ChatOutputPlan(Func<int, ILogitsProcessor>? processor, ToolCallFormat? toolFormat, IReadOnlyCollection<string>? toolNames, bool toolCallsForced = false)
    {
        Processor = processor;
        ToolFormat = toolFormat;
        ToolNames = toolNames;
        ToolCallsForced = toolCallsForced;
    }

    /// <summary>The per-choice logits processor factory; null when decoding is free.</summary>
    public Func<int, ILogitsProcessor>? Processor { get; }

    /// <summary>The model's tool-call format when calls are to be parsed from the output; null otherwise.</summary>
    public ToolCallFormat? ToolFormat { get; }

    /// <summary>The tool names a call may use.</summary>
    public IReadOnlyCollection<string>? ToolNames { get; }

    /// <summary>Whether decoding is constrained by the forced-call grammar, so calls can be streamed as generated.</summary>
    public bool ToolCallsForced { get; }

    /// <summary>
    /// The tools the chat template shows the model when they differ from the request's: the <c>allowed_tools</c>
    /// subset (a local model is shown only what it may call); null to show the request's tools.
    /// </summary>
    public IReadOnlyList<ChatTool>? TemplateTools { get; private init; }

    /// <summary>A plan that constrains with <paramref name="processor"/> (a custom factory) and parses no tools.</summary>
    public static ChatOutputPlan Custom(Func<int, ILogitsProcessor>? processor) => new(processor, null, null);

    /// <summary>Plans <paramref name="request"/> for <paramref name="model"/>.</summary>
    /// <exception cref="ChatProviderException">A 400 for a schema or tool choice that cannot be enforced.</exception>
    public static ChatOutputPlan Create(ChatCompletionRequest request, LocalChatModel model)
    {
        var mode = request.ToolChoice?.Mode ?? ToolChoiceMode.Auto;
        var tools = request.Tools is { Count: > 0 } list && mode != ToolChoiceMode.None ? list : null;
        IReadOnlyList<ChatTool>? templateTools = null;
        if (mode == ToolChoiceMode.AllowedTools && tools is not null && request.ToolChoice!.AllowedTools is { } allowed)
        {
            (mode, tools) = Allowed(allowed, tools);
            templateTools = tools ?? [];
        }

        try
        {
            if (tools is not null)
            {
                var format = ToolCallFormat.For(model);
                switch (mode)
                {
                    case ToolChoiceMode.Required:
                    case ToolChoiceMode.Function:
                        var forced = mode == ToolChoiceMode.Function ? [Named(tools, request.ToolChoice!.Name)] : tools;
                        var definitions = Definitions(forced);
                        var parallel = mode == ToolChoiceMode.Required && request.ParallelToolCalls != false;
                        var strict = forced.All(t => t.Function?.Strict == true);
                        var constraint = ConstraintCompiler.For(model).ToolCalls(format, definitions, parallel, strict);
                        return new ChatOutputPlan(ConstraintCompiler.ProcessorFactory(constraint), format, [.. definitions.Select(d => d.Name)], toolCallsForced: true) { TemplateTools = templateTools };
                    case ToolChoiceMode.Auto:
                        // A JSON response_format wins over free-form tool calls: its output cannot hold one.
                        if (ResponseConstraint(request, model) is { } json)
                        {
                            return new ChatOutputPlan(json, null, null) { TemplateTools = templateTools };
                        }

                        return new ChatOutputPlan(LazyCalls(model, format, tools, request.ParallelToolCalls != false), format, [.. tools.Select(t => t.Name).OfType<string>()])
                        {
                            TemplateTools = templateTools,
                        };
                    default:
                        throw new ChatProviderException(ApiError.InvalidRequest(
                            $"tool_choice of type '{ModeName(mode)}' is not supported by local models; use 'none', 'auto', 'required' or a function.",
                            "tool_choice",
                            "unsupported_value"));
                }
            }

            return new ChatOutputPlan(ResponseConstraint(request, model), null, null) { TemplateTools = templateTools };
        }
        catch (GenerationRequestException ex)
        {
            throw new ChatProviderException(ApiError.InvalidRequest(ex.Message, ex.Param, ex.Code), ex);
        }
    }

    private static Func<int, ILogitsProcessor>? ResponseConstraint(ChatCompletionRequest request, LocalChatModel model)
    {
        var format = request.ResponseFormat;
        if (format is null || format.Type == ResponseFormatTypes.Text)
        {
            return null;
        }

        var compiler = ConstraintCompiler.For(model);
        return format.Type switch
        {
            ResponseFormatTypes.JsonObject => ConstraintCompiler.ProcessorFactory(compiler.JsonObject()),
            ResponseFormatTypes.JsonSchema when format.JsonSchema is { Schema: { } schema } json =>
                ConstraintCompiler.ProcessorFactory(compiler.JsonSchema(json.Name, schema, json.Strict == true)),

            // A json_schema without a schema asks for JSON and nothing more.
            ResponseFormatTypes.JsonSchema => ConstraintCompiler.ProcessorFactory(compiler.JsonObject()),
            _ => throw new ChatProviderException(ApiError.InvalidRequest($"Invalid value: '{format.Type}'.", "response_format.type", "invalid_value")),
        };
    }

    // tool_choice auto: output stays free, but a call the model opens is constrained from there on to a given function
    // with valid arguments: after the opening tag for tagged formats (one call, or several when parallel), or, for
    // bare-JSON formats whose calls are the whole output, from an output that begins with '{'. Custom tools leave
    // calls free (parsed as written); so does a schema that cannot be compiled, unless a tool is strict, which makes
    // it the 400 a forced call would get.
    private static Func<int, ILogitsProcessor>? LazyCalls(LocalChatModel model, ToolCallFormat format, IReadOnlyList<ChatTool> tools, bool parallel)
    {
        if (tools.Any(t => t.Function is null))
        {
            return null;
        }

        var strict = tools.All(t => t.Function!.Strict == true);
        var compiler = ConstraintCompiler.For(model);
        try
        {
            if (format.OpenMarker is { } marker)
            {
                var body = compiler.ToolCallBody(format, Definitions(tools), strict);
                var trigger = Encoding.UTF8.GetBytes(marker);
                return _ => new TriggeredConstraintProcessor(trigger, body, parallel);
            }

            var calls = compiler.ToolCalls(format, Definitions(tools), parallel, strict);
            return _ => new LeadingConstraintProcessor((byte)'{', calls);
        }
        catch (GenerationRequestException) when (!tools.Any(t => t.Function!.Strict == true))
        {
            return null;
        }
    }

    // tool_choice allowed_tools: its mode, and the subset of tools it names (null when it names none).
    private static (ToolChoiceMode Mode, IReadOnlyList<ChatTool>? Tools) Allowed(JsonElement allowed, IReadOnlyList<ChatTool> tools)
    {
        const string path = "tool_choice.allowed_tools";
        var required = allowed.GetProperty("mode").GetString() == "required";
        var subset = new List<ChatTool>();
        var i = 0;
        foreach (var item in allowed.GetProperty("tools").EnumerateArray())
        {
            var type = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            // Chat Completions names the tool inside its type's object; the Responses form puts the name beside the type.
            var holder = type is not null && item.TryGetProperty(type, out var target) && target.ValueKind == JsonValueKind.Object ? target : item;
            var name = type is not null && holder.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            var tool = tools.FirstOrDefault(x => x.Type == type && string.Equals(x.Name, name, StringComparison.Ordinal))
                ?? throw new ChatProviderException(ApiError.InvalidRequest(
                    name is null
                        ? $"Invalid value for '{path}.tools[{i}]': expected an object with 'type' and a '{type ?? "function"}' object naming a tool."
                        : $"Invalid value for '{path}.tools[{i}]': no {type} tool named '{name}' is in 'tools'.",
                    $"{path}.tools[{i}]",
                    "invalid_value"));
            if (!subset.Contains(tool))
            {
                subset.Add(tool);
            }

            i++;
        }

        if (subset.Count == 0 && required)
        {
            throw new ChatProviderException(ApiError.InvalidRequest(
                $"Invalid value for '{path}.tools': mode 'required' needs at least one tool.", $"{path}.tools", "invalid_value"));
        }

        return (required ? ToolChoiceMode.Required : ToolChoiceMode.Auto, subset.Count == 0 ? null : subset);
    }

    private static ChatTool Named(IReadOnlyList<ChatTool> tools, string? name) =>
        tools.FirstOrDefault(t => t.Function is not null && string.Equals(t.Function.Name, name, StringComparison.Ordinal))
        ?? throw new ChatProviderException(ApiError.InvalidRequest(
            $"Invalid value for 'tool_choice': no function named '{name}' is in 'tools'.", "tool_choice", "invalid_value"));

    private static List<ToolDefinition> Definitions(IEnumerable<ChatTool> tools)
    {
        var definitions = new List<ToolDefinition>();
        foreach (var tool in tools)
        {
            if (tool.Function is not { } function)
            {
                throw new ChatProviderException(ApiError.InvalidRequest(
                    $"Tool '{tool.Name}' of type '{tool.Type}' cannot be forced on a local model; only function tools can.", "tools", "unsupported_value"));
            }

            definitions.Add(new ToolDefinition(function.Name, function.Parameters ?? EmptyParameters));
        }

        return definitions;
    }

    private static string ModeName(ToolChoiceMode mode) => mode switch
    {
        ToolChoiceMode.Custom => "custom",
        ToolChoiceMode.AllowedTools => "allowed_tools",
        _ => mode.ToString().ToLowerInvariant(),
    };
}
