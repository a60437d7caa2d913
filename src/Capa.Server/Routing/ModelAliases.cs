namespace Capa.Server.Routing;

/// <summary>
/// OpenAI model ids that code written for OpenAI uses, and the capability a local model needs to stand in for each.
/// </summary>
public static class ModelAliases
{
    /// <summary>The built-in aliases: requested id to the capabilities the serving model must have.</summary>
    public static IReadOnlyDictionary<string, ModelCapabilities> BuiltIn { get; } = new Dictionary<string, ModelCapabilities>(StringComparer.Ordinal)
    {
        ["gpt-4-1106-preview"] = ModelCapabilities.Chat,
        ["gpt-3.5-turbo-1106"] = ModelCapabilities.Chat,
        ["gpt-3.5-turbo"] = ModelCapabilities.Chat,
        ["gpt-4"] = ModelCapabilities.Chat,
        ["gpt-4-turbo"] = ModelCapabilities.Chat,
        ["gpt-4o"] = ModelCapabilities.Chat,
        ["gpt-4o-mini"] = ModelCapabilities.Chat,
        ["gpt-4-vision-preview"] = ModelCapabilities.Chat,
        ["gpt-4.1"] = ModelCapabilities.Chat,
        ["gpt-4.1-mini"] = ModelCapabilities.Chat,
        ["gpt-4.1-nano"] = ModelCapabilities.Chat,
        ["dall-e-2"] = ModelCapabilities.Image,
        ["dall-e-3"] = ModelCapabilities.Image,
        ["gpt-image-1"] = ModelCapabilities.Image,
        ["gpt-image-1-mini"] = ModelCapabilities.Image,
        ["gpt-image-1.5"] = ModelCapabilities.Image,
        ["gpt-image-2"] = ModelCapabilities.Image,
        ["chatgpt-image-latest"] = ModelCapabilities.Image,
        ["whisper-1"] = ModelCapabilities.Transcription,
        ["gpt-4o-transcribe"] = ModelCapabilities.Transcription,
        ["gpt-4o-mini-transcribe"] = ModelCapabilities.Transcription,
        ["tts-1"] = ModelCapabilities.Speech,
        ["tts-1-hd"] = ModelCapabilities.Speech,
        ["gpt-4o-mini-tts"] = ModelCapabilities.Speech,
    };

    /// <summary>
    /// The chat aliases whose OpenAI models read images: a request holding an image goes to a local vision model, any
    /// other to a chat model. An image sent to another alias (e.g. <c>gpt-3.5-turbo</c>) gets the 400 OpenAI gives.
    /// </summary>
    public static IReadOnlySet<string> Vision { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "gpt-4-vision-preview", "gpt-4-turbo", "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
    };

    /// <summary>
    /// The capabilities a built-in alias needs, for its listed ids and for OpenAI's dated snapshots of the
    /// <c>gpt-4.1</c> family (<c>gpt-4.1-2025-04-14</c>, <c>gpt-4.1-mini-…</c>), which name the same models.
    /// </summary>
    public static bool TryGet(string modelId, out ModelCapabilities needs)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        if (BuiltIn.TryGetValue(modelId, out needs))
        {
            return true;
        }

        needs = ModelCapabilities.Chat;
        return modelId.StartsWith("gpt-4.1-", StringComparison.Ordinal) && modelId.Length > "gpt-4.1-".Length;
    }

    /// <summary>Whether <paramref name="modelId"/> is a built-in alias that takes images (see <see cref="Vision"/>).</summary>
    public static bool TakesImages(string modelId)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        return Vision.Contains(modelId) || (modelId.StartsWith("gpt-4.1-", StringComparison.Ordinal) && TryGet(modelId, out _));
    }
}
