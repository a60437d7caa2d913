using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Speech.Piper;

/// <summary>
/// A Piper voice file (<c>NAME.onnx</c> beside <c>NAME.onnx.json</c>): inputs <c>input</c> int64 [1, N],
/// <c>input_lengths</c> [1], <c>scales</c> f32 [3] (noise, length, noise width) and <c>sid</c> for multi-speaker
/// voices; output <c>output</c>, samples at the config's rate.
/// </summary>
public sealed class PiperModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly bool _hasSid;
    private readonly string _output;

    private PiperModel(string path, PiperConfig config, InferenceSession session)
    {
        ModelPath = path;
        Config = config;
        _session = session;
        _hasSid = session.InputMetadata.ContainsKey("sid");
        _output = session.OutputNames[0];
        ModelDigest = OnnxVoiceSession.Describe(path);
        Name = Path.GetFileNameWithoutExtension(path);
    }

    /// <summary>The ONNX file.</summary>
    public string ModelPath { get; }

    /// <summary>The file name without <c>.onnx</c> (<c>en_US-lessac-medium</c>).</summary>
    public string Name { get; }

    /// <summary>A digest of the ONNX file (for fingerprints).</summary>
    public string ModelDigest { get; }

    /// <summary>The config.</summary>
    public PiperConfig Config { get; }

    /// <summary>The Piper voices in <paramref name="directory"/> and its subfolders: ONNX files with a config beside them.</summary>
    public static IEnumerable<string> Find(string directory) =>
        System.IO.Directory.Exists(directory)
            ? System.IO.Directory.EnumerateFiles(directory, "*.onnx", SearchOption.AllDirectories).Where(p => File.Exists(p + ".json")).Order(StringComparer.Ordinal)
            : [];

    /// <summary>Loads <paramref name="path"/> and its config.</summary>
    /// <exception cref="VoiceFolderException">A file is missing or unreadable, or the graph lacks Piper's inputs.</exception>
    public static PiperModel Load(string path, int intraOpThreads = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var config = PiperConfig.Load(path + ".json");
        var session = OnnxVoiceSession.Open(path, intraOpThreads);
        var inputs = session.InputMetadata;
        if (!inputs.ContainsKey("input") || !inputs.ContainsKey("input_lengths") || !inputs.ContainsKey("scales"))
        {
            session.Dispose();
            throw new VoiceFolderException($"'{path}' is not a Piper graph: its inputs are {string.Join(", ", inputs.Keys)} (expected input, input_lengths, scales).");
        }

        return new PiperModel(path, config, session);
    }

    /// <summary>Runs the model on one sentence's ids.</summary>
    public float[] Synthesize(long[] ids, float lengthScale, long speaker)
    {
        ArgumentNullException.ThrowIfNull(ids);
        using var input = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using var lengths = OrtValue.CreateTensorValueFromMemory(new long[] { ids.Length }, [1]);
        using var scales = OrtValue.CreateTensorValueFromMemory(new[] { Config.NoiseScale, lengthScale, Config.NoiseW }, [3]);
        using var sid = OrtValue.CreateTensorValueFromMemory(new[] { speaker }, [1]);
        using var runOptions = new RunOptions();
        var names = _hasSid ? new[] { "input", "input_lengths", "scales", "sid" } : ["input", "input_lengths", "scales"];
        var values = _hasSid ? new[] { input, lengths, scales, sid } : [input, lengths, scales];
        using var outputs = _session.Run(runOptions, names, values, [_output]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}
