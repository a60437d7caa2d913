using System.Text.Json;

namespace Capa.Models.Store;

/// <summary>
/// What a model folder can serve, derived from its <c>config.json</c> and files. The mapping is deliberately
/// simple and visible:
/// <list type="bullet">
/// <item><c>chat</c>: a decoder LM (<c>architectures</c> ending in <c>ForCausalLM</c>, e.g. Qwen2ForCausalLM,
/// LlamaForCausalLM, Phi3ForCausalLM, Gemma2ForCausalLM, or a known decoder <c>model_type</c>), or a
/// vision-language model that carries a chat template.</item>
/// <item><c>vision</c>: <c>config.json</c> has a <c>vision_config</c>, a known vision-language <c>model_type</c>
/// (idefics3, smolvlm, qwen2_vl, llava, florence2, ...), or the folder has an <c>onnx/vision_encoder*.onnx</c> part.</item>
/// <item><c>transcription</c>: speech recognition (<c>model_type</c> whisper, moonshine, wav2vec2; <c>*ForCTC</c>).</item>
/// <item><c>speech</c>: text to speech (<c>model_type</c> style_text_to_speech_2 (Kokoro), vits, speecht5;
/// <c>*TextToSpeech*</c> architectures; Piper voices, i.e. <c>*.onnx.json</c>).</item>
/// <item><c>image</c>: image generation, i.e. a diffusers pipeline (<c>model_index.json</c>).</item>
/// <item><c>embeddings</c>: sentence-transformers files (<c>modules.json</c>, <c>sentence_bert_config.json</c>), or a
/// bare encoder (<c>BertModel</c>, <c>XLMRobertaModel</c>, <c>MPNetModel</c>, <c>NomicBertModel</c>, ...).</item>
/// </list>
/// </summary>
public static class ModelCapabilities
{
    /// <summary>Chat completions.</summary>
    public const string Chat = "chat";

    /// <summary>Image inputs (<c>image_url</c> parts).</summary>
    public const string Vision = "vision";

    /// <summary>Audio transcription and translation.</summary>
    public const string Transcription = "transcription";

    /// <summary>Text to speech.</summary>
    public const string Speech = "speech";

    /// <summary>Image generation.</summary>
    public const string Image = "image";

    /// <summary>Embeddings.</summary>
    public const string Embeddings = "embeddings";

    private static readonly HashSet<string> DecoderModelTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "qwen2", "qwen3", "qwen3_moe", "llama", "mistral", "mixtral", "phi", "phi3", "gemma", "gemma2", "gemma3_text",
        "granite", "olmo", "olmo2", "smollm3", "stablelm", "gpt2", "gpt_neox", "gptj", "falcon", "starcoder2", "exaone",
        "cohere", "deepseek_v3", "glm", "lfm2", "opt", "bloom", "mpt", "codegen",
    };

    private static readonly HashSet<string> VisionModelTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "idefics3", "smolvlm", "qwen2_vl", "qwen2_5_vl", "llava", "llava_onevision", "florence2", "paligemma",
        "moondream1", "gemma3", "mllama", "phi3_v", "janus",
    };

    private static readonly HashSet<string> TranscriptionModelTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "whisper", "moonshine", "wav2vec2", "lite-whisper",
    };

    private static readonly HashSet<string> SpeechModelTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "style_text_to_speech_2", "kokoro", "vits", "speecht5", "piper",
    };

    private static readonly HashSet<string> EncoderArchitectures = new(StringComparer.Ordinal)
    {
        "BertModel", "RobertaModel", "XLMRobertaModel", "MPNetModel", "NomicBertModel", "DistilBertModel",
        "ModernBertModel", "NewModel", "JinaBertModel", "E5Model", "GteModel",
    };

    private static readonly string[] SentenceTransformersFiles =
        ["modules.json", "sentence_bert_config.json", "config_sentence_transformers.json"];

    /// <summary>The capabilities of the model in <paramref name="directory"/>, in a fixed order (chat, vision, transcription, speech, image, embeddings).</summary>
    public static IReadOnlyList<string> Detect(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var files = Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(directory, f).Replace('\\', '/'))
                .ToList()
            : [];
        return Detect(directory, files);
    }

    /// <summary>Same as <see cref="Detect(string)"/> with the folder's files (relative, '/'-separated) already listed.</summary>
    internal static IReadOnlyList<string> Detect(string directory, IReadOnlyCollection<string> files)
    {
        var (modelType, architectures, hasVisionConfig) = ReadConfig(Path.Combine(directory, "config.json"));
        var fileSet = new HashSet<string>(files, StringComparer.OrdinalIgnoreCase);

        bool AnyArchitecture(Func<string, bool> test) => architectures.Any(test);

        var isVision = hasVisionConfig
            || (modelType is not null && VisionModelTypes.Contains(modelType))
            || AnyArchitecture(a => a.Contains("VisionEncoderDecoder", StringComparison.Ordinal) || a.Contains("ForImageTextToText", StringComparison.Ordinal))
            || files.Any(f => f.StartsWith("onnx/vision_encoder", StringComparison.OrdinalIgnoreCase) && f.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase));

        var isTranscription = (modelType is not null && TranscriptionModelTypes.Contains(modelType))
            || AnyArchitecture(a => a.StartsWith("Whisper", StringComparison.Ordinal) || a.EndsWith("ForCTC", StringComparison.Ordinal) || a.Contains("SpeechSeq2Seq", StringComparison.Ordinal));

        var isSpeech = (modelType is not null && SpeechModelTypes.Contains(modelType))
            || AnyArchitecture(a => a.Contains("TextToSpeech", StringComparison.Ordinal))
            || files.Any(f => f.EndsWith(".onnx.json", StringComparison.OrdinalIgnoreCase));

        var isImage = fileSet.Contains("model_index.json");

        var isDecoder = AnyArchitecture(a => a.EndsWith("ForCausalLM", StringComparison.Ordinal))
            || (architectures.Count == 0 && modelType is not null && DecoderModelTypes.Contains(modelType));
        var hasChatTemplate = fileSet.Contains("chat_template.jinja") || fileSet.Contains("chat_template.json") || TokenizerHasChatTemplate(directory);
        var isChat = !isTranscription && (isDecoder || (isVision && hasChatTemplate));

        var isEmbeddings = SentenceTransformersFiles.Any(fileSet.Contains) || AnyArchitecture(EncoderArchitectures.Contains);

        var result = new List<string>(2);
        if (isChat)
        {
            result.Add(Chat);
        }

        if (isVision)
        {
            result.Add(Vision);
        }

        if (isTranscription)
        {
            result.Add(Transcription);
        }

        if (isSpeech)
        {
            result.Add(Speech);
        }

        if (isImage)
        {
            result.Add(Image);
        }

        if (isEmbeddings)
        {
            result.Add(Embeddings);
        }

        return result;
    }

    private static (string? ModelType, List<string> Architectures, bool HasVisionConfig) ReadConfig(string path)
    {
        var architectures = new List<string>();
        using var doc = TryParse(path);
        if (doc is null || doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            return (null, architectures, false);
        }

        var root = doc.RootElement;
        string? modelType = root.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() : null;
        if (root.TryGetProperty("architectures", out var arch) && arch.ValueKind == JsonValueKind.Array)
        {
            foreach (var a in arch.EnumerateArray())
            {
                if (a.ValueKind == JsonValueKind.String && a.GetString() is { Length: > 0 } name)
                {
                    architectures.Add(name);
                }
            }
        }

        var hasVision = root.TryGetProperty("vision_config", out var vc) && vc.ValueKind == JsonValueKind.Object;
        return (modelType, architectures, hasVision);
    }

    private static bool TokenizerHasChatTemplate(string directory)
    {
        using var doc = TryParse(Path.Combine(directory, "tokenizer_config.json"));
        return doc is not null
            && doc.RootElement.ValueKind == JsonValueKind.Object
            && doc.RootElement.TryGetProperty("chat_template", out var t)
            && t.ValueKind is JsonValueKind.String or JsonValueKind.Array;
    }

    private static JsonDocument? TryParse(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }
}
