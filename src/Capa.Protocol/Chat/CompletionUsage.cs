using System.Text.Json.Serialization;

namespace Capa.Protocol;

/// <summary>Token usage of a request (<c>CompletionUsage</c>).</summary>
public sealed class CompletionUsage
{
    /// <summary>Tokens in the prompt.</summary>
    public int PromptTokens { get; init; }

    /// <summary>Tokens generated, over all choices.</summary>
    public int CompletionTokens { get; init; }

    /// <summary>Prompt plus completion tokens.</summary>
    public int TotalTokens { get; init; }

    /// <summary>Breakdown of the prompt tokens.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PromptTokensDetails? PromptTokensDetails { get; init; }

    /// <summary>Breakdown of the completion tokens.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public CompletionTokensDetails? CompletionTokensDetails { get; init; }

    /// <summary>Usage with OpenAI's detail objects filled with zeros, as OpenAI sends them.</summary>
    public static CompletionUsage Create(int promptTokens, int completionTokens, int cachedTokens = 0) => new()
    {
        PromptTokens = promptTokens,
        CompletionTokens = completionTokens,
        TotalTokens = promptTokens + completionTokens,
        PromptTokensDetails = new PromptTokensDetails { CachedTokens = cachedTokens },
        CompletionTokensDetails = new CompletionTokensDetails(),
    };
}

/// <summary><c>prompt_tokens_details</c>.</summary>
public sealed class PromptTokensDetails
{
    /// <summary>Prompt tokens served from a cache.</summary>
    public int CachedTokens { get; init; }

    /// <summary>Audio tokens in the prompt.</summary>
    public int AudioTokens { get; init; }
}

/// <summary><c>completion_tokens_details</c>.</summary>
public sealed class CompletionTokensDetails
{
    /// <summary>Tokens spent reasoning.</summary>
    public int ReasoningTokens { get; init; }

    /// <summary>Audio tokens generated.</summary>
    public int AudioTokens { get; init; }

    /// <summary>Predicted-output tokens that appeared in the completion.</summary>
    public int AcceptedPredictionTokens { get; init; }

    /// <summary>Predicted-output tokens that did not.</summary>
    public int RejectedPredictionTokens { get; init; }
}
