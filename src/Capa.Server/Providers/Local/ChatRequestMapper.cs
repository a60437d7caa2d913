using System.Globalization;
using System.Text.Json;
using Capa.Engine.Text.Generation;
using Capa.Protocol;
using Capa.Server.Routing;

namespace Capa.Server.Providers.Local;

/// <summary>Maps an OpenAI chat request onto a chat template's variables and an engine <see cref="GenerationRequest"/>.</summary>
internal static class ChatRequestMapper
{
    /// <summary>
    /// The template variables: <c>messages</c> and, when there are any, <c>tools</c>: <paramref name="tools"/> when
    /// given (the subset a plan shows), else the request's.
    /// </summary>
    public static Dictionary<string, object?> TemplateVariables(ChatCompletionRequest request, IReadOnlyList<ChatTool>? tools = null)
    {
        var messages = new List<object?>(request.Messages.Count);
        for (var i = 0; i < request.Messages.Count; i++)
        {
            messages.Add(Message(request.Messages[i], i));
        }

        var variables = new Dictionary<string, object?>(StringComparer.Ordinal) { ["messages"] = messages };
        if ((tools ?? request.Tools) is { Count: > 0 } shown)
        {
            variables["tools"] = shown.Select(Tool).ToList();
        }

        return variables;
    }

    private static Dictionary<string, object?> Message(ChatMessage message, int index)
    {
        if (message.Content?.Parts is { } parts)
        {
            foreach (var part in parts)
            {
                if (part.Type is not (ChatContentPartTypes.Text or ChatContentPartTypes.Refusal))
                {
                    throw new ChatProviderException(ApiError.InvalidRequest(
                        $"Invalid content part type '{part.Type}' in messages[{index}]: this model accepts text only.",
                        $"messages[{index}].content"));
                }
            }
        }

        var role = message.Role switch
        {
            ChatRole.System => "system",
            ChatRole.Developer => "system", // chat templates know no developer role; OpenAI treats it as the system prompt
            ChatRole.User => "user",
            ChatRole.Assistant => "assistant",
            ChatRole.Tool => "tool",
            ChatRole.Function => "tool",
            _ => throw new ChatProviderException(ApiError.InvalidRequest($"Unsupported role in messages[{index}].", $"messages[{index}].role")),
        };
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["role"] = role,
            ["content"] = message.Content is null ? null : message.GetText(),
        };
        if (message.Name is { } name)
        {
            dict["name"] = name;
        }

        if (message.ToolCallId is { } toolCallId)
        {
            dict["tool_call_id"] = toolCallId;
        }

        if (message.ToolCalls is { Count: > 0 } calls)
        {
            dict["tool_calls"] = calls.Select(c => (object?)new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["id"] = c.Id,
                ["type"] = c.Type,
                ["function"] = c.Function is null ? null : new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["name"] = c.Function.Name,
                    ["arguments"] = Arguments(c.Function.Arguments),
                },
            }).ToList();
        }

        return dict;
    }

    // OpenAI sends arguments as a JSON string; the published templates expect an object (they apply tojson), so a
    // string that parses as an object is passed as one, as transformers and vLLM do.
    private static object? Arguments(string arguments)
    {
        try
        {
            using var doc = JsonDocument.Parse(arguments);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.Clone() : arguments;
        }
        catch (JsonException)
        {
            return arguments;
        }
    }

    private static object? Tool(ChatTool tool)
    {
        var function = new Dictionary<string, object?>(StringComparer.Ordinal) { ["name"] = tool.Name ?? string.Empty };
        if (tool.Function?.Description is { } description)
        {
            function["description"] = description;
        }

        if (tool.Function?.Parameters is { } parameters)
        {
            function["parameters"] = parameters;
        }

        return new Dictionary<string, object?>(StringComparer.Ordinal) { ["type"] = tool.Type, ["function"] = function };
    }

    /// <summary>
    /// OpenAI's 400 for a token budget the model can never spend: more completion tokens than its context holds beside
    /// a one-token prompt. Checked before the prompt is rendered or tokenized; a budget within that bound is capped by
    /// the engine at what the prompt leaves.
    /// </summary>
    /// <exception cref="ChatProviderException">The budget is too large.</exception>
    public static void CheckTokenBudget(ChatCompletionRequest request, int maxContextLength)
    {
        var (param, requested) = request.MaxCompletionTokens is { } completion
            ? ("max_completion_tokens", completion)
            : ("max_tokens", request.MaxTokens);
        var supported = Math.Max(1, maxContextLength - 1);
        if (requested > supported)
        {
            throw new ChatProviderException(ApiError.InvalidRequest(
                string.Create(CultureInfo.InvariantCulture, $"{param} is too large: {requested}. This model supports at most {supported} completion tokens, whereas you provided {requested}."),
                param,
                "invalid_value"));
        }
    }

    /// <summary>The engine request for already tokenized prompt.</summary>
    public static GenerationRequest Generation(ChatCompletionRequest request, LocalChatModel model, IReadOnlyList<int> prompt, Func<int, ILogitsProcessor>? constraint) =>
        Generation(request, model.Tokenizer.VocabSize, model.DefaultTopK, prompt, constraint);

    /// <summary>The engine request for an already tokenized prompt, given the tokenizer's size and the model's default top_k.</summary>
    public static GenerationRequest Generation(ChatCompletionRequest request, int vocabSize, int defaultTopK, IReadOnlyList<int> prompt, Func<int, ILogitsProcessor>? constraint)
    {
        Dictionary<int, float>? bias = null;
        if (request.LogitBias is { Count: > 0 } logitBias)
        {
            bias = new Dictionary<int, float>(logitBias.Count);
            foreach (var (id, value) in logitBias)
            {
                if (id < 0 || id >= vocabSize)
                {
                    throw new ChatProviderException(ApiError.InvalidRequest(
                        $"Invalid key in 'logit_bias': {id}. Maximum value is {vocabSize - 1}.", "logit_bias", "invalid_value"));
                }

                bias[id] = (float)value;
            }
        }

        return new GenerationRequest
        {
            PromptTokens = prompt,
            MaxTokens = request.EffectiveMaxTokens,
            Stop = request.Stop ?? [],
            N = request.N ?? 1,
            Seed = request.Seed,
            LogitsProcessorFactory = constraint,
            Sampling = new SamplingOptions
            {
                Temperature = (float)(request.Temperature ?? 1.0),
                TopP = (float)(request.TopP ?? 1.0),
                TopK = defaultTopK,
                PresencePenalty = (float)(request.PresencePenalty ?? 0),
                FrequencyPenalty = (float)(request.FrequencyPenalty ?? 0),
                LogitBias = bias,
                Logprobs = request.Logprobs == true,
                TopLogprobs = request.Logprobs == true ? request.TopLogprobs ?? 0 : 0,
            },
        };
    }
}
