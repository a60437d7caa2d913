using Capa.Models;
using Capa.Models.Hub;

namespace Capa.Models.Tests.Hub;

public sealed class HubFileSelectorTests
{
    private static HubRepository Repo(params string[] paths) =>
        new("org/model", "abc", [.. paths.Select(p => new HubFile(p, 10, null))]);

    private static List<string> Select(HubRepository repo, ModelVariant variant) =>
        [.. HubFileSelector.Select(repo, variant).Select(f => f.Path).Order(StringComparer.Ordinal)];

    [Fact]
    public void Support_files_are_kept_and_other_frameworks_docs_and_images_are_not()
    {
        var repo = Repo(
            "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "added_tokens.json", "vocab.json", "merges.txt", "tokenizer.model", "chat_template.jinja", "preprocessor_config.json",
            "README.md", ".gitattributes", "model.safetensors", "pytorch_model.bin", "model.gguf", "tf_model.h5", "logo.png",
            "openvino/openvino_model.xml", "openvino/config.json", "onnx/model_q4.onnx");

        Assert.Equal(
            ["added_tokens.json", "chat_template.jinja", "config.json", "generation_config.json", "merges.txt", "onnx/model_q4.onnx",
             "preprocessor_config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "vocab.json"],
            Select(repo, ModelVariant.Q4));
    }

    [Theory]
    [InlineData(ModelVariant.Fp32, "onnx/model.onnx")]
    [InlineData(ModelVariant.Fp16, "onnx/model_fp16.onnx")]
    [InlineData(ModelVariant.Int8, "onnx/model_int8.onnx")]
    [InlineData(ModelVariant.Q4, "onnx/model_q4.onnx")]
    public void Each_variant_takes_its_own_suffix_only(ModelVariant variant, string expected)
    {
        var repo = Repo("onnx/model.onnx", "onnx/model_fp16.onnx", "onnx/model_int8.onnx", "onnx/model_quantized.onnx", "onnx/model_uint8.onnx",
            "onnx/model_q4.onnx", "onnx/model_q4f16.onnx", "onnx/model_bnb4.onnx");

        Assert.Equal([expected], Select(repo, variant));
    }

    [Fact]
    public void Int8_falls_back_to_the_older_quantized_name()
    {
        Assert.Equal(["onnx/model_quantized.onnx"], Select(Repo("onnx/model.onnx", "onnx/model_quantized.onnx"), ModelVariant.Int8));
    }

    [Fact]
    public void Every_part_of_a_multi_part_model_is_taken_with_its_external_data_and_the_merged_decoder_replaces_the_split_ones()
    {
        var repo = Repo(
            "onnx/encoder_model_q4.onnx", "onnx/encoder_model_q4.onnx_data", "onnx/encoder_model_q4.onnx_data_1",
            "onnx/decoder_model_merged_q4.onnx", "onnx/decoder_model_merged_q4.onnx.data",
            "onnx/decoder_model_q4.onnx", "onnx/decoder_with_past_model_q4.onnx",
            "onnx/embed_tokens_q4.onnx", "onnx/vision_encoder_q4.onnx",
            "onnx/encoder_model.onnx", "onnx/encoder_model.onnx_data", "onnx/decoder_model_merged_fp16.onnx",
            "onnx/encoder_model_q4.onnx_database");

        Assert.Equal(
            ["onnx/decoder_model_merged_q4.onnx", "onnx/decoder_model_merged_q4.onnx.data", "onnx/embed_tokens_q4.onnx",
             "onnx/encoder_model_q4.onnx", "onnx/encoder_model_q4.onnx_data", "onnx/encoder_model_q4.onnx_data_1", "onnx/vision_encoder_q4.onnx"],
            Select(repo, ModelVariant.Q4));
    }

    [Fact]
    public void Voice_packs_are_kept_although_they_are_bin_files()
    {
        var repo = Repo("config.json", "onnx/model_q4.onnx", "voices/af_bella.bin", "pytorch_model.bin");

        Assert.Equal(["config.json", "onnx/model_q4.onnx", "voices/af_bella.bin"], Select(repo, ModelVariant.Q4));
    }

    [Fact]
    public void A_repository_without_onnx_files_says_so()
    {
        var error = Assert.Throws<HubException>(() => HubFileSelector.Select(Repo("config.json", "model.safetensors"), ModelVariant.Q4));

        Assert.Equal(HubErrorKind.VariantNotFound, error.Kind);
        Assert.Contains("has no ONNX files", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_variant_lists_the_others_with_the_quantized_name_as_int8()
    {
        var error = Assert.Throws<HubException>(() => HubFileSelector.Select(Repo("onnx/model_quantized.onnx", "onnx/model_fp16.onnx", "onnx/model_bnb4.onnx"), ModelVariant.Q4));

        Assert.Contains("Variants it has: fp16, int8, bnb4 (not supported by Capa).", error.Message, StringComparison.Ordinal);
    }
}
