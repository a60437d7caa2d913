using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol;

/// <summary>A tool the model may call (<c>ChatCompletionTool</c> or a custom tool).</summary>
public sealed class ChatTool
{
    /// <summary><c>function</c>, or <c>custom</c> for a custom tool.</summary>
    public string Type { get; init; } = "function";

    /// <summary>The function, for <c>function</c> tools.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public FunctionDefinition? Function { get; init; }

    /// <summary>The <c>custom</c> object of a custom tool, kept as sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Custom { get; init; }

    /// <summary>The tool's name: the function name, or the custom tool's <c>name</c>.</summary>
    [JsonIgnore]
    public string? Name => Function?.Name
        ?? (Custom is { ValueKind: JsonValueKind.Object } custom
            && custom.TryGetProperty("name"u8, out var name)
            && name.ValueKind == JsonValueKind.String ? name.GetString() : null);
}

/// <summary>A function the model may call (<c>FunctionObject</c>).</summary>
public sealed class FunctionDefinition
{
    /// <summary>Name: letters, digits, underscores and dashes, 1 to 64 characters.</summary>
    public required string Name { get; init; }

    /// <summary>What the function does.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Description { get; init; }

    /// <summary>The JSON schema of the arguments, kept as sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Parameters { get; init; }

    /// <summary>Whether the arguments must follow <see cref="Parameters"/> exactly.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Strict { get; init; }
}

/// <summary>A tool call made by the model (<c>ChatCompletionMessageToolCall</c>).</summary>
public sealed class ChatToolCall
{
    /// <summary>The call id (<c>call_...</c>), echoed by the tool message that answers it.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>function</c> for function calls; <c>custom</c> for custom tool calls.</summary>
    public string Type { get; init; } = "function";

    /// <summary>The function called, for <c>function</c> calls.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ChatFunctionCall? Function { get; init; }

    /// <summary>The <c>custom</c> object of a custom tool call, kept as sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Custom { get; init; }
}

/// <summary>A function name with its JSON-encoded arguments.</summary>
public sealed class ChatFunctionCall
{
    /// <summary>The function name.</summary>
    public required string Name { get; init; }

    /// <summary>The arguments as a JSON string, as the model generated them.</summary>
    public required string Arguments { get; init; }
}

/// <summary>A streamed fragment of a tool call (<c>ChatCompletionMessageToolCallChunk</c>).</summary>
public sealed class ChatToolCallDelta
{
    /// <summary>Which tool call of the choice this fragment extends.</summary>
    public required int Index { get; init; }

    /// <summary>The call id, in the first fragment of a call only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Id { get; init; }

    /// <summary><c>function</c>, in the first fragment of a call only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Type { get; init; }

    /// <summary>The name (first fragment) and a piece of the arguments.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ChatFunctionCallDelta? Function { get; init; }
}

/// <summary>A streamed fragment of a function call.</summary>
public sealed class ChatFunctionCallDelta
{
    /// <summary>The function name, in the first fragment only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }

    /// <summary>The next piece of the JSON arguments.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Arguments { get; init; }
}

/// <summary>How <c>tool_choice</c> constrains tool use.</summary>
public enum ToolChoiceMode
{
    /// <summary><c>"none"</c>: no tool is called.</summary>
    None,

    /// <summary><c>"auto"</c>: the model decides.</summary>
    Auto,

    /// <summary><c>"required"</c>: at least one tool is called.</summary>
    Required,

    /// <summary><c>{"type":"function","function":{"name":...}}</c>: that function is called.</summary>
    Function,

    /// <summary><c>{"type":"custom","custom":{"name":...}}</c>: that custom tool is called.</summary>
    Custom,

    /// <summary><c>{"type":"allowed_tools",...}</c>: a subset of tools, kept in <see cref="ToolChoice.AllowedTools"/>.</summary>
    AllowedTools,
}

/// <summary>The <c>tool_choice</c> parameter (<c>ChatCompletionToolChoiceOption</c>).</summary>
[JsonConverter(typeof(ToolChoiceConverter))]
public sealed class ToolChoice
{
    /// <summary><c>"none"</c>.</summary>
    public static ToolChoice None { get; } = new() { Mode = ToolChoiceMode.None };

    /// <summary><c>"auto"</c>.</summary>
    public static ToolChoice Auto { get; } = new() { Mode = ToolChoiceMode.Auto };

    /// <summary><c>"required"</c>.</summary>
    public static ToolChoice Required { get; } = new() { Mode = ToolChoiceMode.Required };

    /// <summary>The mode.</summary>
    public required ToolChoiceMode Mode { get; init; }

    /// <summary>The tool name for <see cref="ToolChoiceMode.Function"/> and <see cref="ToolChoiceMode.Custom"/>.</summary>
    public string? Name { get; init; }

    /// <summary>The <c>allowed_tools</c> object for <see cref="ToolChoiceMode.AllowedTools"/>, kept as sent.</summary>
    public JsonElement? AllowedTools { get; init; }

    /// <summary>Forces the named function.</summary>
    public static ToolChoice ForFunction(string name) => new() { Mode = ToolChoiceMode.Function, Name = name };
}
