using System.Globalization;
using System.Text.Json;
using Capa.Engine.Whisper.Decoding;
using Capa.Engine.Whisper.Features;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Whisper.Tests.Decoding;

public sealed class WindowDecoderOracleTests(TinyWhisper tiny) : IClassFixture<TinyWhisper>
{
    private const int MaxNewTokens = 40;

    [WhisperOracleTheory]
    [InlineData("en", "transcribe", 4.0)]
    [InlineData("zh", "transcribe", 9.5)]
    [InlineData("de", "translate", 2.5)]
    public void GreedyTokens_EqualTransformersJsGenerate(string language, string task, double seconds)
    {
        float[] audio = TestAudio.Chirps(seconds, seed: (ulong)language.Length + (ulong)seconds);
        string file = WhisperOracle.WriteAudio(audio);
        List<int> expected;
        try
        {
            using JsonDocument output = WhisperOracle.Run("generate", "--model", tiny.Directory, "--audio", file, "--language", language,
                "--task", task, "--max-new-tokens", MaxNewTokens.ToString(CultureInfo.InvariantCulture));
            expected = [.. output.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
        }
        finally
        {
            File.Delete(file);
        }

        var decoder = new WindowDecoder(tiny.Model);
        var options = new WindowOptions { Task = task, Language = language, WithoutTimestamps = true };
        List<int> initial = decoder.InitialTokens(options);
        Assert.Equal(initial, expected.Take(initial.Count));

        float[] features = new LogMelSpectrogram(tiny.Folder.MelBins).ComputeWindow(audio);
        using OrtValue states = tiny.Model.Encode(features);
        WindowResult result = decoder.Decode(states, options, CancellationToken.None);

        List<int> theirs = [.. expected.Skip(initial.Count)];
        int eot = tiny.Folder.Tokens.EndOfText;
        if (theirs.Contains(eot))
        {
            Assert.Equal(theirs.TakeWhile(t => t != eot), result.Tokens);
        }
        else
        {
            Assert.Equal(MaxNewTokens, theirs.Count);
            Assert.Equal(theirs, result.Tokens.Take(MaxNewTokens));
        }
    }
}
