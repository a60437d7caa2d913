using Capa.Protocol;
using Capa.Server.Routing;

namespace Capa.Server.Chat;

/// <summary>
/// What a chat request needs of its model beyond text (images in, audio in or out), and OpenAI's 400 when the routed
/// model lacks it. The router sends such a request to a model that has it (a local one, else an upstream); only when
/// none can take it does the client get the refusal, never a silently ignored input or output.
/// </summary>
internal static class ChatNeeds
{
    public static ModelCapabilities Of(ChatCompletionRequest request)
    {
        var needed = ModelCapabilities.None;
        foreach (var message in request.Messages)
        {
            foreach (var part in message.Content?.Parts ?? [])
            {
                needed |= part.Type switch
                {
                    ChatContentPartTypes.ImageUrl => ModelCapabilities.Vision,
                    "input_audio" => ModelCapabilities.AudioInput,
                    _ => ModelCapabilities.None,
                };
            }
        }

        if (request.Audio is not null || request.Modalities?.Contains("audio", StringComparer.Ordinal) == true)
        {
            needed |= ModelCapabilities.AudioOutput;
        }

        return needed;
    }

    /// <summary>The 400 for the first need the route's model lacks.</summary>
    public static ApiError? Refusal(ChatCompletionRequest request, ModelRoute route, ModelCapabilities needed)
    {
        var has = route.Model?.Capabilities ?? needed;
        for (var i = 0; i < request.Messages.Count; i++)
        {
            var parts = request.Messages[i].Content?.Parts ?? [];
            for (var j = 0; j < parts.Count; j++)
            {
                var lacking = parts[j].Type switch
                {
                    ChatContentPartTypes.ImageUrl => (has & ModelCapabilities.Vision) == 0,
                    "input_audio" => (has & ModelCapabilities.AudioInput) == 0,
                    _ => false,
                };
                if (lacking)
                {
                    // OpenAI's text and param for a content part the model cannot read, naming the model (a local
                    // server's models are the operator's choice, so say which one lacks the input).
                    return ApiError.InvalidRequest(
                        $"Invalid content type. {parts[j].Type} is only supported by certain models; the model `{request.Model}` does not accept it.",
                        $"messages.[{i}].content.[{j}].type");
                }
            }
        }

        if ((needed & ModelCapabilities.AudioOutput) != 0 && (has & ModelCapabilities.AudioOutput) == 0)
        {
            return ApiError.InvalidRequest(
                $"The model `{request.Model}` does not support audio output; request `modalities: [\"text\"]`, or configure an upstream that serves an audio model.",
                request.Audio is not null ? "audio" : "modalities",
                "unsupported_value");
        }

        return null;
    }
}
