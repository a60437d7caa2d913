using System.Buffers;
using System.Text.Json;
using Capa.Protocol;
using Capa.Server.Providers.Upstream;
using Capa.Server.Routing;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Images;

/// <summary>
/// dall-e-3's <c>revised_prompt</c>: a chat model rewrites the prompt as one specific English description before the
/// text encoder reads it, because CLIP understands English only (a prompt such as 一只猫 would otherwise reach it as
/// unknown tokens). The rewrite is seeded with the image's seed, so a seeded request gives the same revision and image
/// every time. OpenAI's "AS-IS" prefix keeps the rest of the prompt unrevised. With no chat model to ask, or when the
/// model fails or answers nothing, the prompt is used as given and <c>revised_prompt</c> equals it.
/// </summary>
internal sealed partial class ImagePromptReviser(ModelRouter router, ImageOptions options, ILogger<ImagePromptReviser> logger)
{
    /// <summary>OpenAI's documented prefix that asks for the prompt to be used as given.</summary>
    public const string AsIsPrefix = "I NEED to test how the tool works with extremely simple prompts. DO NOT add any detail, just use it AS-IS:";

    /// <summary>The model asked when the configuration names none: a local one only, never an upstream by default.</summary>
    public const string DefaultModel = "gpt-4o-mini";

    /// <summary>Most tokens of a revision: CLIP reads 77, about 60 English words.</summary>
    public const int MaxRevisionTokens = 96;

    /// <summary>The instructions the chat model gets.</summary>
    public const string Instructions =
        "You write prompts for an image generator that understands only English. Rewrite the user's image request as one " +
        "English description of at most 60 words: translate it if it is not in English, keep everything the user asked for, " +
        "and add concrete visual detail (subject, setting, lighting, composition, style). Answer with the description only.";

    /// <summary>The prompt the text encoder should read for a dall-e-3 request.</summary>
    public async Task<string> ReviseAsync(string prompt, ulong seed, string requestId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (prompt.StartsWith(AsIsPrefix, StringComparison.Ordinal))
        {
            string rest = prompt[AsIsPrefix.Length..].Trim();
            return rest.Length > 0 ? rest : prompt;
        }

        string? model = options.RevisePromptsWith ?? DefaultModel;
        if (model.Length == 0)
        {
            return prompt;
        }

        ModelRoute? route = await router.ResolveAsync(model, ModelCapabilities.Chat, cancellationToken).ConfigureAwait(false);
        if (route?.Provider is not IChatProvider provider
            || (options.RevisePromptsWith is null && provider is UpstreamChatProvider)
            || ModelRouter.Lacks(route, ModelCapabilities.Chat))
        {
            return prompt;
        }

        byte[] body = RequestBody(route.TargetModel, prompt, seed);
        if (!ChatRequestReader.TryRead(body, out ChatCompletionRequest? request, out ApiError? invalid))
        {
            // The body is built here from a validated prompt; failing to read it back is a defect, not the client's.
            LogFailed(logger, model, invalid.Message);
            return prompt;
        }

        var call = new ChatCall { Request = request, Body = body, TargetModel = route.TargetModel, ResponseModel = model, RequestId = requestId };
        string? answer;
        try
        {
            ChatCompletionResult result = await provider.CompleteAsync(call, cancellationToken).ConfigureAwait(false);
            answer = result.Response is { } response ? response.Choices.FirstOrDefault()?.Message.Content : ContentOf(result.Json);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, model, e.Message);
            return prompt;
        }

        string revised = Clean(answer);
        return revised.Length > 0 ? revised : prompt;
    }

    /// <summary>The chat request: the instructions, the prompt, the image's seed, a short answer.</summary>
    internal static byte[] RequestBody(string model, string prompt, ulong seed)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model"u8, model);
            w.WriteStartArray("messages"u8);
            w.WriteStartObject();
            w.WriteString("role"u8, "system");
            w.WriteString("content"u8, Instructions);
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("role"u8, "user");
            w.WriteString("content"u8, prompt);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteNumber("seed"u8, (long)(seed & long.MaxValue));
            w.WriteNumber("temperature"u8, 0.7);
            w.WriteNumber("max_tokens"u8, MaxRevisionTokens);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The answer's first paragraph, without surrounding quotes or whitespace.</summary>
    internal static string Clean(string? answer)
    {
        if (string.IsNullOrWhiteSpace(answer))
        {
            return string.Empty;
        }

        string text = answer.Trim();
        int paragraph = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (paragraph > 0)
        {
            text = text[..paragraph];
        }

        text = text.Replace('\n', ' ').Trim().Trim('"', '\'', '“', '”').Trim();
        return text;
    }

    /// <summary>The first choice's content of a <c>chat.completion</c> body forwarded as JSON.</summary>
    private static string? ContentOf(ReadOnlyMemory<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.TryGetProperty("choices"u8, out JsonElement choices) && choices.ValueKind == JsonValueKind.Array
                && choices.GetArrayLength() > 0 && choices[0].TryGetProperty("message"u8, out JsonElement message)
                && message.TryGetProperty("content"u8, out JsonElement content) && content.ValueKind == JsonValueKind.String
                ? content.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Revising an image prompt with {Model} failed, so the prompt is used as given: {Reason}")]
    private static partial void LogFailed(ILogger logger, string model, string reason);
}
