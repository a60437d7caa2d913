using System.Text.Json;

namespace Capa.Protocol.Assistants;

/// <summary>
/// A validated create or modify body of an assistant. On modify, only members named in <see cref="Present"/> change
/// (a member sent as <c>null</c> is present and clears a nullable member).
/// </summary>
public sealed record AssistantRequest
{
    /// <summary>The members the body named.</summary>
    public required IReadOnlySet<string> Present { get; init; }

    /// <summary>The model id.</summary>
    public string? Model { get; init; }

    /// <summary>The name.</summary>
    public string? Name { get; init; }

    /// <summary>The description.</summary>
    public string? Description { get; init; }

    /// <summary>The instructions.</summary>
    public string? Instructions { get; init; }

    /// <summary>The tools.</summary>
    public IReadOnlyList<JsonElement> Tools { get; init; } = [];

    /// <summary>The tool resources, <c>{}</c> when none.</summary>
    public JsonElement ToolResources { get; init; } = AssistantDefaults.EmptyObject;

    /// <summary>The metadata.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = AssistantDefaults.EmptyMetadata;

    /// <summary>The temperature.</summary>
    public double? Temperature { get; init; }

    /// <summary>The nucleus sampling mass.</summary>
    public double? TopP { get; init; }

    /// <summary><c>"auto"</c> or a format object.</summary>
    public JsonElement ResponseFormat { get; init; } = AssistantDefaults.Auto;
}

/// <summary>A validated message to add to a thread.</summary>
public sealed record MessageRequest
{
    /// <summary><c>user</c> or <c>assistant</c>.</summary>
    public required string Role { get; init; }

    /// <summary>The content parts in the stored form (<c>{"type":"text","text":{"value","annotations":[]}}</c>).</summary>
    public required IReadOnlyList<JsonElement> Content { get; init; }

    /// <summary>The attachments as given.</summary>
    public IReadOnlyList<JsonElement> Attachments { get; init; } = [];

    /// <summary>The metadata.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = AssistantDefaults.EmptyMetadata;
}

/// <summary>A validated create or modify body of a thread.</summary>
public sealed record ThreadRequest
{
    /// <summary>The members the body named.</summary>
    public required IReadOnlySet<string> Present { get; init; }

    /// <summary>The first messages (create only).</summary>
    public IReadOnlyList<MessageRequest> Messages { get; init; } = [];

    /// <summary>The tool resources, <c>{}</c> when none.</summary>
    public JsonElement ToolResources { get; init; } = AssistantDefaults.EmptyObject;

    /// <summary>The metadata.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = AssistantDefaults.EmptyMetadata;
}

/// <summary>A validated body that creates a run (on a thread, or with a new thread).</summary>
public sealed record RunRequest
{
    /// <summary>The members the body named.</summary>
    public required IReadOnlySet<string> Present { get; init; }

    /// <summary>The assistant.</summary>
    public required string AssistantId { get; init; }

    /// <summary>A model overriding the assistant's, or null.</summary>
    public string? Model { get; init; }

    /// <summary>Instructions overriding the assistant's, or null.</summary>
    public string? Instructions { get; init; }

    /// <summary>Instructions appended to the run's, or null.</summary>
    public string? AdditionalInstructions { get; init; }

    /// <summary>Messages added to the thread before the run.</summary>
    public IReadOnlyList<MessageRequest> AdditionalMessages { get; init; } = [];

    /// <summary>Tools overriding the assistant's, or null.</summary>
    public IReadOnlyList<JsonElement>? Tools { get; init; }

    /// <summary>The metadata.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = AssistantDefaults.EmptyMetadata;

    /// <summary>The temperature, or null for the assistant's.</summary>
    public double? Temperature { get; init; }

    /// <summary>The nucleus sampling mass, or null for the assistant's.</summary>
    public double? TopP { get; init; }

    /// <summary>Whether to answer with the run's events.</summary>
    public bool Stream { get; init; }

    /// <summary>The prompt token limit, or null.</summary>
    public int? MaxPromptTokens { get; init; }

    /// <summary>The completion token limit, or null.</summary>
    public int? MaxCompletionTokens { get; init; }

    /// <summary>The truncation strategy.</summary>
    public JsonElement TruncationStrategy { get; init; } = AssistantDefaults.AutoTruncation;

    /// <summary>The tool choice.</summary>
    public JsonElement ToolChoice { get; init; } = AssistantDefaults.Auto;

    /// <summary>Whether several tool calls may be made at once.</summary>
    public bool ParallelToolCalls { get; init; } = true;

    /// <summary>A format overriding the assistant's, or null.</summary>
    public JsonElement? ResponseFormat { get; init; }

    /// <summary>The new thread (create-thread-and-run only), or null.</summary>
    public ThreadRequest? Thread { get; init; }

    /// <summary>Tool resources of the run (create-thread-and-run only), or null.</summary>
    public JsonElement? ToolResources { get; init; }
}

/// <summary>One output of <c>submit_tool_outputs</c>.</summary>
/// <param name="ToolCallId">The call answered.</param>
/// <param name="Output">What the tool returned.</param>
public sealed record ToolOutput(string ToolCallId, string Output);

/// <summary>A validated <c>submit_tool_outputs</c> body.</summary>
public sealed record SubmitToolOutputsRequest
{
    /// <summary>The outputs.</summary>
    public required IReadOnlyList<ToolOutput> ToolOutputs { get; init; }

    /// <summary>Whether to answer with the run's events.</summary>
    public bool Stream { get; init; }
}
