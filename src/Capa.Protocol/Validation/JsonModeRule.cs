namespace Capa.Protocol;

/// <summary>
/// OpenAI's JSON-mode rule: a request with <c>response_format</c> <c>json_object</c> must mention JSON (the word
/// "json" in any case) in some message, because a model told nothing about JSON may fill its budget with
/// whitespace. Requests breaking it get OpenAI's own 400.
/// </summary>
public static class JsonModeRule
{
    /// <summary>OpenAI's message for the rule.</summary>
    public const string Message = "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.";

    /// <summary>The error for <paramref name="request"/>, or null when it follows the rule (or does not use JSON mode).</summary>
    public static ApiError? Check(ChatCompletionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ResponseFormat?.Type != ResponseFormatTypes.JsonObject)
        {
            return null;
        }

        foreach (var message in request.Messages)
        {
            if (Mentions(message.Content))
            {
                return null;
            }
        }

        return ApiError.InvalidRequest(Message, "messages");
    }

    private static bool Mentions(ChatMessageContent? content)
    {
        if (content is null)
        {
            return false;
        }

        if (content.Text is { } text)
        {
            return text.Contains("json", StringComparison.OrdinalIgnoreCase);
        }

        if (content.Parts is { } parts)
        {
            foreach (var part in parts)
            {
                if ((part.Text ?? part.Refusal)?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
