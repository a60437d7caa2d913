using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Capa.Engine.Whisper.Decoding;
using Capa.Engine.Whisper.Features;
using Capa.Engine.Whisper.Timing;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Whisper.Tests.Timing;

/// <summary>
/// Against transformers.js on the same random-weight folder with cross-attention outputs. Its word pipeline differs
/// from openai/whisper's by design (the warping runs over the generated rows, timestamp tokens included, keeps the
/// end-of-text row, does not rescale a cropped window, and dates each token by the row it is fed in), so the oracle is
/// its <c>_extract_token_timestamps</c> over one full window with nothing cropped: the same normalisation, median
/// filter, head average, warping and jumps that Capa runs before it crops the rows.
/// </summary>
public sealed class WordAlignmentOracleTests(TinyWhisperTimestamped tiny) : IClassFixture<TinyWhisperTimestamped>
{
    [WhisperOracleFact]
    public void TokenTimes_EqualTransformersJsExtractTokenTimestamps()
    {
        float[] audio = TestAudio.Chirps(30, seed: 11);
        float[] features = new LogMelSpectrogram(tiny.Folder.MelBins).ComputeWindow(audio);
        using OrtValue states = tiny.Model.Encode(features);
        var decoder = new WindowDecoder(tiny.Model);
        var options = new WindowOptions { Task = "transcribe", Language = "en", WithoutTimestamps = true };
        WindowResult decoded = decoder.Decode(states, options, CancellationToken.None);
        Assert.NotEmpty(decoded.Tokens);
        int[] tokens = [.. decoder.InitialTokens(options), .. decoded.Tokens.Take(40), tiny.Folder.Tokens.EndOfText];
        int n = tokens.Length;

        string audioFile = WhisperOracle.WriteAudio(audio);
        string weightsFile = audioFile + ".attentions";
        double[] theirs;
        float[] theirWeights;
        try
        {
            using JsonDocument output = WhisperOracle.Run("alignment", "--model", tiny.Directory, "--audio", audioFile, "--out", weightsFile,
                "--tokens", string.Join(',', tokens.Select(t => t.ToString(CultureInfo.InvariantCulture))), "--num-frames", "1500");
            theirs = [.. output.RootElement.GetProperty("timestamps").EnumerateArray().Select(e => e.GetDouble())];
            theirWeights = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(weightsFile)).ToArray();
        }
        finally
        {
            File.Delete(audioFile);
            File.Delete(weightsFile);
        }

        int layers = tiny.Folder.DecoderLayers, heads = tiny.Folder.DecoderHeads;
        float[][] ours;
        int frames;
        using (WhisperDecoding decoding = tiny.Model.StartDecoding(states))
        {
            ours = decoding.CrossAttentions([.. tokens.Select(t => (long)t)], [.. Enumerable.Range(0, layers)], out frames);
        }

        Assert.Equal(1500, frames);
        Assert.Equal(layers * heads * n * frames, theirWeights.Length);
        for (int layer = 0; layer < layers; layer++)
        {
            for (int i = 0; i < ours[layer].Length; i++)
            {
                Assert.Equal(theirWeights[(layer * heads * n * frames) + i], ours[layer][i], 1e-5f);
            }
        }

        int size = n * frames;
        List<float[]> alignment = [.. tiny.Model.AlignmentHeads.Select(h => ours[h.Layer].AsSpan(h.Head * size, size).ToArray())];
        float[] matrix = TokenAlignment.Matrix(alignment, n, frames, frames);
        double[] times = TokenAlignment.RowStartTimes(matrix, n, frames, 0, n);
        Assert.Equal(n, theirs.Length);
        for (int i = 0; i < n; i++)
        {
            // transformers.js stores the times as float32.
            Assert.True(Math.Abs(theirs[i] - times[i]) < 1e-5, $"token {i}: transformers.js {theirs[i]}, Capa {times[i]}");
        }

        // Not all on one frame: the random model's attention does move along the audio.
        Assert.True(times.Distinct().Count() > 1, "every token starts at the same time");
    }

    [WhisperOracleFact]
    public void TimestampedFolder_GivesTransformersJsTokenTimestamps()
    {
        // The export is what transformers.js expects of a *_timestamped folder: its generate reads cross_attentions.N
        // at every cached step and the alignment heads, and dates the tokens it generates (the same ones Capa does).
        float[] audio = TestAudio.Chirps(6, seed: 5);
        string audioFile = WhisperOracle.WriteAudio(audio);
        try
        {
            using JsonDocument output = WhisperOracle.Run("token-timestamps", "--model", tiny.Directory, "--audio", audioFile, "--max-new-tokens", "24");
            int[] ids = [.. output.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
            double[] timestamps = [.. output.RootElement.GetProperty("timestamps").EnumerateArray().Select(e => e.GetDouble())];
            Assert.Equal(ids.Length, timestamps.Length);
            for (int i = 1; i < timestamps.Length; i++)
            {
                Assert.True(timestamps[i] >= timestamps[i - 1] && timestamps[i] <= 30, $"token {i} at {timestamps[i]} after {timestamps[i - 1]}");
            }

            var decoder = new WindowDecoder(tiny.Model);
            var options = new WindowOptions { Task = "transcribe", Language = "en", WithoutTimestamps = true };
            using OrtValue states = tiny.Model.Encode(new LogMelSpectrogram(tiny.Folder.MelBins).ComputeWindow(audio));
            List<int> initial = decoder.InitialTokens(options);
            WindowResult ours = decoder.Decode(states, options, CancellationToken.None);
            int eot = tiny.Folder.Tokens.EndOfText;
            Assert.Equal(ours.Tokens.Take(24), ids.Skip(initial.Count).TakeWhile(t => t != eot));
        }
        finally
        {
            File.Delete(audioFile);
        }
    }
}
