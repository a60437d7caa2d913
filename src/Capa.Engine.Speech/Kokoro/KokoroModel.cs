using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Capa.Engine.Speech.Kokoro;

/// <summary>
/// A Kokoro folder as onnx-community publishes it: <c>onnx/model*.onnx</c>, <c>voices/*.bin</c> (float32 style tables
/// [510, 1, 256]) and <c>tokenizer.json</c>. The input names are read from the session (<c>input_ids</c> or
/// <c>tokens</c>, <c>style</c>, <c>speed</c>); the first output is the 24 kHz waveform.
/// </summary>
public sealed class KokoroModel : IDisposable
{
    /// <summary>Kokoro's output sample rate.</summary>
    public const int SampleRate = 24_000;

    /// <summary>Width of a style vector.</summary>
    public const int StyleSize = 256;

    /// <summary>ONNX files tried in order: full precision first, as kokoro-js's default <c>fp32</c>.</summary>
    private static readonly string[] ModelFiles = ["model.onnx", "model_fp16.onnx", "model_quantized.onnx", "model_q8f16.onnx", "model_uint8.onnx", "model_q4.onnx", "model_q4f16.onnx"];

    private readonly InferenceSession _session;
    private readonly string _idsInput;
    private readonly string _output;
    private readonly bool _speedIsInt;
    private readonly ConcurrentDictionary<string, float[]> _styles = new(StringComparer.Ordinal);

    private KokoroModel(string directory, string modelPath, InferenceSession session, KokoroTokenizer tokenizer, IReadOnlyList<string> voices)
    {
        Directory = directory;
        ModelPath = modelPath;
        _session = session;
        Tokenizer = tokenizer;
        Voices = voices;
        _idsInput = session.InputMetadata.ContainsKey("input_ids") ? "input_ids" : "tokens";
        _output = session.OutputNames[0];
        _speedIsInt = session.InputMetadata["speed"].ElementDataType == TensorElementType.Int32;
        ModelDigest = OnnxVoiceSession.Describe(modelPath);
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>The ONNX file in use.</summary>
    public string ModelPath { get; }

    /// <summary>A digest of the ONNX file (for fingerprints).</summary>
    public string ModelDigest { get; }

    /// <summary>The phoneme tokenizer.</summary>
    public KokoroTokenizer Tokenizer { get; }

    /// <summary>The voice names (<c>af_heart</c>, ...), sorted.</summary>
    public IReadOnlyList<string> Voices { get; }

    /// <summary>Whether <paramref name="directory"/> looks like a Kokoro folder (a voices folder of .bin tables and an ONNX model).</summary>
    public static bool IsKokoroFolder(string directory) =>
        System.IO.Directory.Exists(Path.Combine(directory, "voices"))
        && System.IO.Directory.EnumerateFiles(Path.Combine(directory, "voices"), "*.bin").Any()
        && FindModel(directory) is not null;

    /// <summary>Loads a folder.</summary>
    /// <exception cref="VoiceFolderException">A file is missing or unreadable, or the graph lacks Kokoro's inputs.</exception>
    public static KokoroModel Load(string directory, int intraOpThreads = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var modelPath = FindModel(directory) ?? throw new VoiceFolderException($"'{directory}' has no onnx/model*.onnx.");
        if (!KokoroTokenizer.TryLoad(Path.Combine(directory, "tokenizer.json"), out var tokenizer, out var error))
        {
            throw new VoiceFolderException(error);
        }

        var voicesDirectory = Path.Combine(directory, "voices");
        var voices = System.IO.Directory.Exists(voicesDirectory)
            ? System.IO.Directory.EnumerateFiles(voicesDirectory, "*.bin").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal).ToArray()
            : [];
        if (voices.Length == 0)
        {
            throw new VoiceFolderException($"'{directory}' has no voices/*.bin style tables.");
        }

        var session = OnnxVoiceSession.Open(modelPath, intraOpThreads);
        var inputs = session.InputMetadata;
        if (!(inputs.ContainsKey("input_ids") || inputs.ContainsKey("tokens")) || !inputs.ContainsKey("style") || !inputs.ContainsKey("speed"))
        {
            session.Dispose();
            throw new VoiceFolderException($"'{modelPath}' is not a Kokoro graph: its inputs are {string.Join(", ", inputs.Keys)} (expected input_ids or tokens, style, speed).");
        }

        return new KokoroModel(directory, modelPath, session, tokenizer, voices);
    }

    /// <summary>The style table of <paramref name="voice"/>, [rows × 256], read once.</summary>
    /// <exception cref="VoiceFolderException">The file is missing or not a whole number of 256-float rows.</exception>
    public float[] Styles(string voice)
    {
        ArgumentNullException.ThrowIfNull(voice);
        return _styles.GetOrAdd(voice, name =>
        {
            var path = Path.Combine(Directory, "voices", name + ".bin");
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(path);
            }
            catch (IOException ex)
            {
                throw new VoiceFolderException($"The voice table '{path}' cannot be read: {ex.Message}", ex);
            }

            if (bytes.Length == 0 || bytes.Length % (StyleSize * sizeof(float)) != 0)
            {
                throw new VoiceFolderException($"The voice table '{path}' is {bytes.Length} bytes, not whole rows of {StyleSize} floats.");
            }

            return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        });
    }

    /// <summary>
    /// Runs the model on padded ids (pad, up to 510 symbols, pad) with the style row kokoro-js picks (the symbol
    /// count) and returns the waveform at 24 kHz.
    /// </summary>
    public float[] Synthesize(long[] ids, string voice, float speed)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var table = Styles(voice);
        var rows = table.Length / StyleSize;
        var row = Math.Min(Math.Max(ids.Length - 2, 0), rows - 1);
        var style = table.AsSpan(row * StyleSize, StyleSize).ToArray();
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using var styleValue = OrtValue.CreateTensorValueFromMemory(style, [1, StyleSize]);
        using var speedValue = _speedIsInt
            ? OrtValue.CreateTensorValueFromMemory(new[] { (int)MathF.Round(speed) }, [1])
            : OrtValue.CreateTensorValueFromMemory(new[] { speed }, [1]);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, [_idsInput, "style", "speed"], [idsValue, styleValue, speedValue], [_output]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    private static string? FindModel(string directory)
    {
        foreach (var name in ModelFiles)
        {
            foreach (var candidate in new[] { Path.Combine(directory, "onnx", name), Path.Combine(directory, name) })
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
