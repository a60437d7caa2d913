using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;
using Capa.Engine.Embeddings;

namespace Capa.Cli.Tests.Commands;

public sealed class TestModelCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("capa-testmodel-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Bert_writes_a_sentence_encoder_folder_that_encodes()
    {
        var target = Path.Combine(_directory, "bert");
        var (exit, output) = await CommandHarness.RunAsync(TestModelCommand.Create(), target, "--arch", "bert", "--size", "tiny", "--seed", "3");
        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(target, "onnx", "model.onnx")));
        Assert.True(SentenceEncoder.IsEncoderFolder(target));
        using var encoder = SentenceEncoder.Load(target, new SentenceEncoderOptions { IntraOpThreads = 1 });
        Assert.Equal(32, encoder.Encode(["英雄联盟"])[0].Length);

        var (refused, _) = await CommandHarness.RunAsync(TestModelCommand.Create(), Path.Combine(_directory, "x"), "--arch", "bert", "--size", "huge");
        Assert.NotEqual(0, refused);
    }

    [Fact]
    public async Task Xlmr_writes_an_xlm_roberta_folder_with_a_unigram_tokenizer_that_encodes()
    {
        var target = Path.Combine(_directory, "xlmr");
        var (exit, output) = await CommandHarness.RunAsync(TestModelCommand.Create(), target, "--arch", "xlmr", "--size", "tiny", "--seed", "3");
        Assert.True(exit == 0, output);
        Assert.Contains("\"Unigram\"", File.ReadAllText(Path.Combine(target, "tokenizer.json")), StringComparison.Ordinal);
        Assert.Contains("xlm-roberta", File.ReadAllText(Path.Combine(target, "config.json")), StringComparison.Ordinal);
        Assert.True(SentenceEncoder.IsEncoderFolder(target));
        using var encoder = SentenceEncoder.Load(target, new SentenceEncoderOptions { IntraOpThreads = 1 });
        Assert.Equal(32, encoder.Encode(["英雄联盟 League of Legends"])[0].Length);

        var (refused, _) = await CommandHarness.RunAsync(TestModelCommand.Create(), Path.Combine(_directory, "y"), "--arch", "xlmr", "--size", "huge");
        Assert.NotEqual(0, refused);
    }
}
