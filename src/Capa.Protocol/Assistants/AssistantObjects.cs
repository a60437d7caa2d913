using System.Text.Json;

namespace Capa.Protocol.Assistants;

/// <summary>An assistant (<c>AssistantObject</c>, object <c>assistant</c>): a model with instructions, tools and their resources.</summary>
/// <remarks>Members are written as OpenAI writes them: every member present, unset ones as <c>null</c>.</remarks>
public sealed record AssistantObject
{
    /// <summary><c>asst_...</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>assistant</c>.</summary>
    public string Object { get; init; } = "assistant";

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>At most 256 characters, or null.</summary>
    public string? Name { get; init; }

    /// <summary>At most 512 characters, or null.</summary>
    public string? Description { get; init; }

    /// <summary>The model id as given.</summary>
    public required string Model { get; init; }

    /// <summary>The system instructions, or null.</summary>
    public string? Instructions { get; init; }

    /// <summary>The tools as given (<c>function</c>, <c>file_search</c>).</summary>
    public IReadOnlyList<JsonElement> Tools { get; init; } = [];

    /// <summary>Resources of the tools (<c>{"file_search":{"vector_store_ids":[...]}}</c>), <c>{}</c> when none.</summary>
    public JsonElement ToolResources { get; init; } = AssistantDefaults.EmptyObject;

    /// <summary>Up to 16 string pairs.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = AssistantDefaults.EmptyMetadata;

    /// <summary>Sampling temperature, or null for the default (1).</summary>
    public double? Temperature { get; init; }

    /// <summary>Nucleus sampling mass, or null for the default (1).</summary>
    public double? TopP { get; init; }

    /// <summary><c>"auto"</c> or a format object.</summary>
    public JsonElement ResponseFormat { get; init; } = AssistantDefaults.Auto;
}

/// <summary>A thread (<c>ThreadObject</c>, object <c>thread</c>).</summary>
public sealed record ThreadObject
{
    /// <summary><c>thread_...</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>thread</c>.</summary>
    public string Object { get; init; } = "thread";

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>Resources of the tools for this thread, <c>{}</c> when none.</summary>
    public JsonElement ToolResources { get; init; } = AssistantDefaults.EmptyObject;

    /// <summary>Up to 16 string pairs.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = AssistantDefaults.EmptyMetadata;
}

/// <summary>A message of a thread (<c>MessageObject</c>, object <c>thread.message</c>).</summary>
public sealed record MessageObject
{
    /// <summary><c>msg_...</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>thread.message</c>.</summary>
    public string Object { get; init; } = "thread.message";

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>The assistant that wrote it, or null.</summary>
    public string? AssistantId { get; init; }

    /// <summary>The thread.</summary>
    public required string ThreadId { get; init; }

    /// <summary>The run that wrote it, or null.</summary>
    public string? RunId { get; init; }

    /// <summary><c>user</c> or <c>assistant</c>.</summary>
    public required string Role { get; init; }

    /// <summary>The content parts (<c>text</c> with <c>value</c> and <c>annotations</c>, image parts as given).</summary>
    public IReadOnlyList<JsonElement> Content { get; init; } = [];

    /// <summary>Files attached with the tools to add them to.</summary>
    public IReadOnlyList<JsonElement> Attachments { get; init; } = [];

    /// <summary>Up to 16 string pairs.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = AssistantDefaults.EmptyMetadata;

    /// <summary><c>in_progress</c>, <c>incomplete</c> or <c>completed</c>.</summary>
    public required string Status { get; init; }

    /// <summary>Why it is incomplete (<c>{"reason":...}</c>), or null.</summary>
    public JsonElement? IncompleteDetails { get; init; }

    /// <summary>Unix time in seconds, or null.</summary>
    public long? CompletedAt { get; init; }

    /// <summary>Unix time in seconds, or null.</summary>
    public long? IncompleteAt { get; init; }

    /// <summary>The text of the message's text parts, joined.</summary>
    public string GetText() => string.Concat(Content
        .Where(p => p.TryGetProperty("type"u8, out var t) && t.ValueEquals("text"u8))
        .Select(p => p.GetProperty("text"u8).GetProperty("value"u8).GetString()));
}

/// <summary>A run (<c>RunObject</c>, object <c>thread.run</c>): an assistant executed on a thread.</summary>
public sealed record RunObject
{
    /// <summary><c>run_...</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>thread.run</c>.</summary>
    public string Object { get; init; } = "thread.run";

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>The assistant.</summary>
    public required string AssistantId { get; init; }

    /// <summary>The thread.</summary>
    public required string ThreadId { get; init; }

    /// <summary>One of the run statuses.</summary>
    public required string Status { get; init; }

    /// <summary>Unix time in seconds, or null.</summary>
    public long? StartedAt { get; init; }

    /// <summary>Unix time in seconds when a run waiting for tool outputs expires, or null.</summary>
    public long? ExpiresAt { get; init; }

    /// <summary>Unix time in seconds, or null.</summary>
    public long? CancelledAt { get; init; }

    /// <summary>Unix time in seconds, or null.</summary>
    public long? FailedAt { get; init; }

    /// <summary>Unix time in seconds, or null.</summary>
    public long? CompletedAt { get; init; }

    /// <summary><c>{"type":"submit_tool_outputs","submit_tool_outputs":{"tool_calls":[...]}}</c>, or null.</summary>
    public JsonElement? RequiredAction { get; init; }

    /// <summary><c>{"code","message"}</c>, or null.</summary>
    public RunError? LastError { get; init; }

    /// <summary>The model used.</summary>
    public required string Model { get; init; }

    /// <summary>The instructions used.</summary>
    public string Instructions { get; init; } = string.Empty;

    /// <summary>The tools used.</summary>
    public IReadOnlyList<JsonElement> Tools { get; init; } = [];

    /// <summary>Up to 16 string pairs.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = AssistantDefaults.EmptyMetadata;

    /// <summary><c>{"reason":"max_completion_tokens"|"max_prompt_tokens"}</c>, or null.</summary>
    public JsonElement? IncompleteDetails { get; init; }

    /// <summary>Token counts once final, else null.</summary>
    public RunUsage? Usage { get; init; }

    /// <summary>The sampling temperature.</summary>
    public double? Temperature { get; init; }

    /// <summary>The nucleus sampling mass.</summary>
    public double? TopP { get; init; }

    /// <summary>The prompt token limit, or null.</summary>
    public int? MaxPromptTokens { get; init; }

    /// <summary>The completion token limit, or null.</summary>
    public int? MaxCompletionTokens { get; init; }

    /// <summary><c>{"type":"auto"|"last_messages","last_messages":n}</c>.</summary>
    public JsonElement TruncationStrategy { get; init; } = AssistantDefaults.AutoTruncation;

    /// <summary><c>"none"</c>, <c>"auto"</c>, <c>"required"</c> or a named tool.</summary>
    public JsonElement ToolChoice { get; init; } = AssistantDefaults.Auto;

    /// <summary>Whether several tool calls may be made at once.</summary>
    public bool ParallelToolCalls { get; init; } = true;

    /// <summary><c>"auto"</c> or a format object.</summary>
    public JsonElement ResponseFormat { get; init; } = AssistantDefaults.Auto;
}

/// <summary>A run step (<c>RunStepObject</c>, object <c>thread.run.step</c>): a message created or tool calls made.</summary>
public sealed record RunStepObject
{
    /// <summary><c>step_...</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>thread.run.step</c>.</summary>
    public string Object { get; init; } = "thread.run.step";

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>The run's assistant.</summary>
    public required string AssistantId { get; init; }

    /// <summary>The run's thread.</summary>
    public required string ThreadId { get; init; }

    /// <summary>The run.</summary>
    public required string RunId { get; init; }

    /// <summary><c>message_creation</c> or <c>tool_calls</c>.</summary>
    public required string Type { get; init; }

    /// <summary><c>in_progress</c>, <c>cancelled</c>, <c>failed</c>, <c>completed</c> or <c>expired</c>.</summary>
    public required string Status { get; init; }

    /// <summary><c>{"type":"message_creation","message_creation":{"message_id"}}</c> or <c>{"type":"tool_calls","tool_calls":[...]}</c>.</summary>
    public required JsonElement StepDetails { get; init; }

    /// <summary><c>{"code","message"}</c>, or null.</summary>
    public RunError? LastError { get; init; }

    /// <summary>Unix time in seconds, or null.</summary>
    public long? ExpiredAt { get; init; }

    /// <summary>Unix time in seconds, or null.</summary>
    public long? CancelledAt { get; init; }

    /// <summary>Unix time in seconds, or null.</summary>
    public long? FailedAt { get; init; }

    /// <summary>Unix time in seconds, or null.</summary>
    public long? CompletedAt { get; init; }

    /// <summary>Up to 16 string pairs.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = AssistantDefaults.EmptyMetadata;

    /// <summary>Token counts once final, else null.</summary>
    public RunUsage? Usage { get; init; }
}

/// <summary>An error of a run or run step.</summary>
public sealed record RunError
{
    /// <summary><c>server_error</c>, <c>rate_limit_exceeded</c>, <c>invalid_prompt</c>.</summary>
    public required string Code { get; init; }

    /// <summary>What went wrong.</summary>
    public required string Message { get; init; }
}

/// <summary>Token counts of a run or run step.</summary>
public sealed record RunUsage
{
    /// <summary>Completion tokens.</summary>
    public int CompletionTokens { get; init; }

    /// <summary>Prompt tokens.</summary>
    public int PromptTokens { get; init; }

    /// <summary>Both.</summary>
    public int TotalTokens { get; init; }

    /// <summary>The sum of two counts.</summary>
    public static RunUsage operator +(RunUsage a, RunUsage b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return new RunUsage
        {
            CompletionTokens = a.CompletionTokens + b.CompletionTokens,
            PromptTokens = a.PromptTokens + b.PromptTokens,
            TotalTokens = a.TotalTokens + b.TotalTokens,
        };
    }

    /// <summary>The sum of two counts.</summary>
    public static RunUsage Add(RunUsage a, RunUsage b) => a + b;
}

/// <summary>A page of a list endpoint (<c>object: list</c> with <c>first_id</c>, <c>last_id</c>, <c>has_more</c>).</summary>
public sealed record AssistantList
{
    /// <summary>Always <c>list</c>.</summary>
    public string Object { get; init; } = "list";

    /// <summary>The objects, as stored.</summary>
    public IReadOnlyList<JsonElement> Data { get; init; } = [];

    /// <summary>The first id of the page, or null when empty.</summary>
    public string? FirstId { get; init; }

    /// <summary>The last id of the page, or null when empty.</summary>
    public string? LastId { get; init; }

    /// <summary>Whether more objects follow.</summary>
    public bool HasMore { get; init; }
}

/// <summary>The answer of a delete.</summary>
public sealed record AssistantDeleted
{
    /// <summary>The id deleted.</summary>
    public required string Id { get; init; }

    /// <summary><c>assistant.deleted</c>, <c>thread.deleted</c> or <c>thread.message.deleted</c>.</summary>
    public required string Object { get; init; }

    /// <summary>Always true.</summary>
    public bool Deleted { get; init; } = true;
}

/// <summary>Shared default values.</summary>
public static class AssistantDefaults
{
    /// <summary><c>{}</c>.</summary>
    public static JsonElement EmptyObject { get; } = JsonElement.Parse("{}");

    /// <summary><c>"auto"</c>.</summary>
    public static JsonElement Auto { get; } = JsonElement.Parse("\"auto\"");

    /// <summary><c>{"type":"auto","last_messages":null}</c>.</summary>
    public static JsonElement AutoTruncation { get; } = JsonElement.Parse("""{"type":"auto","last_messages":null}""");

    /// <summary>No metadata.</summary>
    public static IReadOnlyDictionary<string, string> EmptyMetadata { get; } = new Dictionary<string, string>();
}
