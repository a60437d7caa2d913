namespace Capa.Engine.Text.Generation;

/// <summary>A request the engine cannot serve as asked (a client error: HTTP 400 in OpenAI's shape).</summary>
public class GenerationRequestException : Exception
{
    /// <summary>Creates the error.</summary>
    /// <param name="message">The message shown to the client.</param>
    /// <param name="param">The request parameter at fault, as OpenAI names it.</param>
    /// <param name="code">OpenAI's error code, when there is one.</param>
    public GenerationRequestException(string message, string? param, string? code)
        : base(message)
    {
        Param = param;
        Code = code;
    }

    /// <summary>Creates an error with a message only.</summary>
    public GenerationRequestException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an error with a message and its cause.</summary>
    public GenerationRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an error with no message.</summary>
    public GenerationRequestException()
    {
    }

    /// <summary>The request parameter at fault.</summary>
    public string? Param { get; }

    /// <summary>OpenAI's error code.</summary>
    public string? Code { get; }
}

/// <summary>The prompt does not fit in the model's context (OpenAI's <c>context_length_exceeded</c>).</summary>
public sealed class ContextLengthExceededException : GenerationRequestException
{
    /// <summary>Creates the error with OpenAI's wording.</summary>
    public ContextLengthExceededException(int maxContextLength, int promptTokens)
        : base(
            $"This model's maximum context length is {maxContextLength} tokens. However, your messages resulted in {promptTokens} tokens. Please reduce the length of the messages.",
            "messages",
            "context_length_exceeded")
    {
        MaxContextLength = maxContextLength;
        PromptTokens = promptTokens;
    }

    /// <summary>
    /// Creates the error for a prompt known to need at least <paramref name="minimumPromptTokens"/> tokens, found
    /// without tokenizing all of it.
    /// </summary>
    public ContextLengthExceededException(int maxContextLength, long minimumPromptTokens)
        : base(
            $"This model's maximum context length is {maxContextLength} tokens. However, your messages resulted in at least {minimumPromptTokens} tokens. Please reduce the length of the messages.",
            "messages",
            "context_length_exceeded")
    {
        MaxContextLength = maxContextLength;
        PromptTokens = (int)Math.Min(minimumPromptTokens, int.MaxValue);
    }

    /// <summary>The model's context length.</summary>
    public int MaxContextLength { get; }

    /// <summary>The prompt's length.</summary>
    public int PromptTokens { get; }
}

/// <summary>The engine's queue is full (HTTP 429 with <c>Retry-After</c>).</summary>
public sealed class GenerationQueueFullException : Exception
{
    /// <summary>Creates the error.</summary>
    public GenerationQueueFullException(int capacity, TimeSpan retryAfter)
        : base($"The server is busy: {capacity} requests are already running or waiting for this model. Retry after {Math.Ceiling(retryAfter.TotalSeconds)} s.")
    {
        Capacity = capacity;
        RetryAfter = retryAfter;
    }

    /// <summary>Running plus queued requests allowed.</summary>
    public int Capacity { get; }

    /// <summary>Suggested wait before retrying.</summary>
    public TimeSpan RetryAfter { get; }
}
