using Capa.Models.Store;

namespace Capa.Models.Tests.Store;

public sealed class ModelCapabilitiesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "capa-caps-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private IReadOnlyList<string> Detect(params (string Path, string Content)[] files)
    {
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(_dir, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
        }

        return ModelCapabilities.Detect(_dir);
    }

    [Theory]
    [InlineData("Qwen2ForCausalLM", "qwen2")]
    [InlineData("LlamaForCausalLM", "llama")]
    [InlineData("Phi3ForCausalLM", "phi3")]
    [InlineData("Gemma2ForCausalLM", "gemma2")]
    public void Decoder_language_models_chat(string architecture, string modelType)
    {
        Assert.Equal([ModelCapabilities.Chat], Detect(("config.json", $$"""{"architectures":["{{architecture}}"],"model_type":"{{modelType}}"}""")));
    }

    [Fact]
    public void A_known_decoder_model_type_without_architectures_chats()
    {
        Assert.Equal([ModelCapabilities.Chat], Detect(("config.json", """{"model_type":"qwen3"}""")));
    }

    [Fact]
    public void Whisper_transcribes_and_does_not_chat()
    {
        Assert.Equal([ModelCapabilities.Transcription],
            Detect(("config.json", """{"architectures":["WhisperForConditionalGeneration"],"model_type":"whisper"}"""), ("tokenizer_config.json", """{"chat_template":"x"}""")));
    }

    [Fact]
    public void A_vision_language_model_with_a_chat_template_chats_and_sees()
    {
        Assert.Equal([ModelCapabilities.Chat, ModelCapabilities.Vision],
            Detect(("config.json", """{"architectures":["Idefics3ForConditionalGeneration"],"model_type":"idefics3","vision_config":{}}"""),
                ("chat_template.jinja", "{{ messages }}")));
    }

    [Fact]
    public void A_vision_model_without_a_chat_template_only_sees()
    {
        Assert.Equal([ModelCapabilities.Vision],
            Detect(("config.json", """{"architectures":["Florence2ForConditionalGeneration"],"model_type":"florence2"}"""), ("onnx/vision_encoder_q4.onnx", "x")));
    }

    [Fact]
    public void Kokoro_and_piper_voices_speak()
    {
        Assert.Equal([ModelCapabilities.Speech], Detect(("config.json", """{"model_type":"style_text_to_speech_2"}""")));
    }

    [Fact]
    public void A_diffusers_pipeline_makes_images()
    {
        Assert.Equal([ModelCapabilities.Image], Detect(("model_index.json", """{"_class_name":"StableDiffusionPipeline"}"""), ("unet/model.onnx", "x")));
    }

    [Fact]
    public void Sentence_transformers_and_bare_encoders_embed()
    {
        Assert.Equal([ModelCapabilities.Embeddings], Detect(("config.json", """{"architectures":["BertModel"],"model_type":"bert"}""")));
        Assert.Equal([ModelCapabilities.Embeddings], Detect(("modules.json", "[]")));
    }

    [Fact]
    public void A_missing_or_broken_config_has_no_capabilities()
    {
        Assert.Empty(Detect());
        Assert.Empty(Detect(("config.json", "{ broken")));
    }
}
