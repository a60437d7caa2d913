using Capa.Protocol;

namespace Capa.Server.Routing;

/// <summary>The result of a non-streaming completion: a typed response, or a JSON body passed through as is.</summary>
public sealed class ChatCompletionResult
{
    private ChatCompletionResult(ChatCompletionResponse? response, ReadOnlyMemory<byte> json)
    {
        Response = response;
        Json = json;
    }

    /// <summary>The typed response, when the provider built one.</summary>
    public ChatCompletionResponse? Response { get; }

    /// <summary>A complete <c>chat.completion</c> JSON body, when the provider forwards one (e.g. from an upstream).</summary>
    public ReadOnlyMemory<byte> Json { get; }

    /// <summary>A typed response, serialized by the server.</summary>
    public static ChatCompletionResult FromResponse(ChatCompletionResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new(response, default);
    }

    /// <summary>A UTF-8 JSON <c>chat.completion</c> object, written to the client byte for byte.</summary>
    public static ChatCompletionResult FromJson(ReadOnlyMemory<byte> json) => new(null, json);
}
