using Capa.Models;
using Capa.Models.Config;
using Capa.TestModels.Whisper;

namespace Capa.Engine.Whisper.Tests;

public sealed class WhisperModelFolderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "capa-whisper-folder-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Load_ReadsTokensAndShapes()
    {
        WhisperTestModelWriter.Write(new WhisperTestModelSpec(), _dir);
        WhisperModelFolder folder = WhisperModelFolder.Load(_dir);
        Assert.Equal(WhisperDecoderLayout.Merged, folder.Layout);
        Assert.Equal(ModelVariant.Fp32, folder.Variant);
        Assert.Equal(80, folder.MelBins);
        Assert.Equal(99, folder.Tokens.Languages.Count);
        Assert.Equal(folder.Tokenizer.TokenToId("<|0.00|>"), folder.Tokens.TimestampBegin);
        Assert.Equal(folder.Tokenizer.TokenToId("<|nocaptions|>"), folder.Tokens.NoSpeech);
        Assert.Contains(folder.Tokens.Transcribe, folder.Tokens.Suppress);
        Assert.NotEmpty(folder.Tokens.AlignmentHeads);
    }

    [Fact]
    public void Load_AcceptsTheSplitLayoutAndSuffixedVariants()
    {
        WhisperTestModelWriter.Write(new WhisperTestModelSpec(), _dir);
        string onnx = Path.Combine(_dir, "onnx");
        File.Move(Path.Combine(onnx, "encoder_model.onnx"), Path.Combine(onnx, "encoder_model_quantized.onnx"));
        File.Copy(Path.Combine(onnx, "decoder_model_merged.onnx"), Path.Combine(onnx, "decoder_model_quantized.onnx"));
        File.Move(Path.Combine(onnx, "decoder_model_merged.onnx"), Path.Combine(onnx, "decoder_with_past_model_quantized.onnx"));
        WhisperModelFolder folder = WhisperModelFolder.Load(_dir);
        Assert.Equal(WhisperDecoderLayout.Split, folder.Layout);
        Assert.Equal(ModelVariant.Int8, folder.Variant);
        Assert.EndsWith("decoder_with_past_model_quantized.onnx", folder.DecoderWithPastPath, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SaysWhatIsMissing()
    {
        WhisperTestModelWriter.Write(new WhisperTestModelSpec(), _dir);
        File.Delete(Path.Combine(_dir, "onnx", "decoder_model_merged.onnx"));
        var missingDecoder = Assert.Throws<ModelFolderException>(() => WhisperModelFolder.Load(_dir));
        Assert.Contains("decoder_model_merged", missingDecoder.Message, StringComparison.Ordinal);
        Assert.Contains("encoder_model.onnx", missingDecoder.Message, StringComparison.Ordinal);

        WhisperTestModelWriter.Write(new WhisperTestModelSpec(), _dir);
        File.Delete(Path.Combine(_dir, "generation_config.json"));
        var missingConfig = Assert.Throws<ModelFolderException>(() => WhisperModelFolder.Load(_dir));
        Assert.Contains("generation_config.json", missingConfig.Message, StringComparison.Ordinal);

        Assert.Throws<ModelFolderException>(() => WhisperModelFolder.Load(_dir, ModelVariant.Q4));
    }
}
