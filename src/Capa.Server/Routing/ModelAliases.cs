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
        ["gpt-4-vision-preview"] = ModelCapabilities.Chat | ModelCapabilities.Vision,
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
}
