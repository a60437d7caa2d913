namespace Capa.Protocol;

/// <summary>OpenAI's <c>finish_reason</c> values.</summary>
public static class FinishReasons
{
    /// <summary>A natural stop or a stop sequence.</summary>
    public const string Stop = "stop";

    /// <summary>The token budget or the context length was reached.</summary>
    public const string Length = "length";

    /// <summary>The model called tools.</summary>
    public const string ToolCalls = "tool_calls";

    /// <summary>Content was withheld by a filter.</summary>
    public const string ContentFilter = "content_filter";

    /// <summary>Deprecated function call.</summary>
    public const string FunctionCall = "function_call";
}
