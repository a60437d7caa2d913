using System.Globalization;
using Capa.Models.Config;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Capa.Engine.Whisper;

/// <summary>Options for <see cref="WhisperOnnxModel.Load"/>.</summary>
public sealed record WhisperOnnxOptions
{
    /// <summary>Threads ONNX Runtime uses inside one operator.</summary>
    public int IntraOpThreads { get; init; } = Math.Max(1, Environment.ProcessorCount);
}

/// <summary>
/// The encoder and decoder sessions of a <see cref="WhisperModelFolder"/>. <see cref="Encode"/> turns one 30-second
/// window of features into encoder states; <see cref="StartDecoding"/> opens a key/value-cached decoding over them.
/// Sessions are thread-safe; each decoding is not.
/// </summary>
public sealed class WhisperOnnxModel : IDisposable
{
    private readonly InferenceSession _encoder;
    private readonly InferenceSession _decoder;
    private readonly InferenceSession? _decoderWithPast;
    private readonly string _encoderInput;
    private readonly string _encoderOutput;

    private WhisperOnnxModel(WhisperModelFolder folder, InferenceSession encoder, InferenceSession decoder, InferenceSession? withPast)
    {
        Folder = folder;
        _encoder = encoder;
        _decoder = decoder;
        _decoderWithPast = withPast;
        _encoderInput = encoder.InputMetadata.ContainsKey("input_features") ? "input_features" : encoder.InputMetadata.Keys.First();
        _encoderOutput = encoder.OutputMetadata.ContainsKey("last_hidden_state") ? "last_hidden_state" : encoder.OutputMetadata.Keys.First();
        HeadDim = folder.DModel / folder.DecoderHeads;
        foreach (string name in new[] { "input_ids", "encoder_hidden_states" })
        {
            if (!decoder.InputMetadata.ContainsKey(name))
            {
                throw new ModelFolderException($"'{folder.DecoderPath}' has no '{name}' input; it is not a Whisper decoder.");
            }
        }

        if (!decoder.OutputMetadata.ContainsKey("logits"))
        {
            throw new ModelFolderException($"'{folder.DecoderPath}' has no 'logits' output; it is not a Whisper decoder.");
        }

        // Word timestamps read the alignment heads' cross-attention weights, which only *_timestamped exports output.
        AlignmentHeads = folder.Tokens.AlignmentHeads.Count > 0 ? folder.Tokens.AlignmentHeads : DefaultAlignmentHeads(folder);
        HasCrossAttentions = AlignmentHeads.Count > 0
            && AlignmentHeads.All(h => h.Layer >= 0 && h.Layer < folder.DecoderLayers && h.Head >= 0 && h.Head < folder.DecoderHeads)
            && AlignmentHeads.Select(h => h.Layer).Distinct().All(l => decoder.OutputMetadata.ContainsKey(Name(CrossAttentionsFormat, l)));
    }

    /// <summary>The folder the sessions were loaded from.</summary>
    public WhisperModelFolder Folder { get; }

    internal int HeadDim { get; }

    /// <summary>
    /// Whether the decoder outputs the cross-attention weights (<c>cross_attentions.N</c>) of the alignment heads' layers,
    /// which word timestamps need.
    /// </summary>
    public bool HasCrossAttentions { get; }

    /// <summary>
    /// The [layer, head] pairs whose cross-attention follows the audio: generation_config.json <c>alignment_heads</c>,
    /// else (as openai/whisper) every head of the last half of the decoder layers.
    /// </summary>
    public IReadOnlyList<(int Layer, int Head)> AlignmentHeads { get; }

    internal const string CrossAttentionsFormat = "cross_attentions.{0}";

    /// <summary>Loads the sessions.</summary>
    /// <exception cref="ModelFolderException">ONNX Runtime rejects a file, or a graph lacks Whisper's inputs and outputs.</exception>
    public static WhisperOnnxModel Load(WhisperModelFolder folder, WhisperOnnxOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        options ??= new WhisperOnnxOptions();
        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        var opened = new List<InferenceSession>();
        try
        {
            InferenceSession Open(string path)
            {
                try
                {
                    var session = new InferenceSession(path, sessionOptions);
                    opened.Add(session);
                    return session;
                }
                catch (OnnxRuntimeException ex)
                {
                    throw new ModelFolderException($"ONNX Runtime cannot load '{path}': {ex.Message}", ex);
                }
            }

            InferenceSession encoder = Open(folder.EncoderPath);
            InferenceSession decoder = Open(folder.DecoderPath);
            InferenceSession? withPast = folder.DecoderWithPastPath is { } p ? Open(p) : null;
            return new WhisperOnnxModel(folder, encoder, decoder, withPast);
        }
        catch
        {
            foreach (InferenceSession session in opened)
            {
                session.Dispose();
            }

            throw;
        }
    }

    /// <summary>Runs the encoder on one window of features, row-major [mel bins, 3000]; the caller disposes the result.</summary>
    public OrtValue Encode(float[] window)
    {
        ArgumentNullException.ThrowIfNull(window);
        int frames = Features.WhisperAudio.ChunkFrames;
        if (window.Length != Folder.MelBins * frames)
        {
            throw new ArgumentException($"The window must hold {Folder.MelBins} × {frames} features.", nameof(window));
        }

        using OrtValue input = OrtValue.CreateTensorValueFromMemory(window, [1, Folder.MelBins, frames]);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = _encoder.Run(runOptions, [_encoderInput], [input], [_encoderOutput]);
        OrtValue states = outputs[0];
        // Copy out of the run's output collection, which disposes its values.
        var shape = states.GetTensorTypeAndShape().Shape;
        return OrtValue.CreateTensorValueFromMemory(states.GetTensorDataAsSpan<float>().ToArray(), shape);
    }

    /// <summary>Starts a decoding over <paramref name="encoderStates"/> (not owned).</summary>
    public WhisperDecoding StartDecoding(OrtValue encoderStates) => new(this, encoderStates);

    internal InferenceSession FirstStepSession => _decoder;

    internal InferenceSession LaterStepSession => _decoderWithPast ?? _decoder;

    internal static string Name(string format, int layer) => string.Format(CultureInfo.InvariantCulture, format, layer);

    private static List<(int Layer, int Head)> DefaultAlignmentHeads(WhisperModelFolder folder)
    {
        var heads = new List<(int, int)>();
        for (int layer = folder.DecoderLayers / 2; layer < folder.DecoderLayers; layer++)
        {
            for (int head = 0; head < folder.DecoderHeads; head++)
            {
                heads.Add((layer, head));
            }
        }

        return heads;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _encoder.Dispose();
        _decoder.Dispose();
        _decoderWithPast?.Dispose();
    }
}

/// <summary>
/// One key/value-cached pass of the decoder: <see cref="Step"/> feeds tokens and returns the logits of the last
/// position (and, on the first call, of every position).
/// </summary>
public sealed class WhisperDecoding : IDisposable
{
    private readonly WhisperOnnxModel _model;
    private readonly OrtValue _encoderStates;
    private readonly OrtValue[] _selfCache;
    private readonly OrtValue[] _crossCache;
    private bool _started;
    private float[] _logits = [];

    internal WhisperDecoding(WhisperOnnxModel model, OrtValue encoderStates)
    {
        _model = model;
        _encoderStates = encoderStates;
        int layers = model.Folder.DecoderLayers;
        _selfCache = new OrtValue[2 * layers];
        _crossCache = new OrtValue[2 * layers];
        for (int i = 0; i < _selfCache.Length; i++)
        {
            _selfCache[i] = Empty();
            _crossCache[i] = Empty();
        }
    }

    /// <summary>Tokens fed so far.</summary>
    public int Length { get; private set; }

    /// <summary>
    /// Feeds <paramref name="tokens"/> and returns the logits, row-major [tokens.Length, vocab]: every fed position on
    /// the first call (the caller reads what it needs), the one position on later calls. The memory is reused by the
    /// next call (no large allocation per step); the caller may modify it.
    /// </summary>
    public Memory<float> Step(ReadOnlySpan<long> tokens)
    {
        if (tokens.IsEmpty)
        {
            throw new ArgumentException("At least one token is needed.", nameof(tokens));
        }

        bool cached = _started;
        var session = cached ? _model.LaterStepSession : _model.FirstStepSession;
        var names = new List<string>();
        var values = new List<OrtValue>();
        var owned = new List<OrtValue>();
        try
        {
            AddInputs(session, tokens, cached, names, values, owned);
            int layers = _model.Folder.DecoderLayers;
            var outputNames = new List<string> { "logits" };
            for (int i = 0; i < layers; i++)
            {
                outputNames.Add(WhisperOnnxModel.Name("present.{0}.decoder.key", i));
                outputNames.Add(WhisperOnnxModel.Name("present.{0}.decoder.value", i));
                if (!cached)
                {
                    outputNames.Add(WhisperOnnxModel.Name("present.{0}.encoder.key", i));
                    outputNames.Add(WhisperOnnxModel.Name("present.{0}.encoder.value", i));
                }
            }

            using var runOptions = new RunOptions();
            IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, names, values, outputNames);
            Memory<float> logits;
            try
            {
                ReadOnlySpan<float> data = outputs[0].GetTensorDataAsSpan<float>();
                if (_logits.Length < data.Length)
                {
                    _logits = new float[data.Length];
                }

                data.CopyTo(_logits);
                logits = _logits.AsMemory(0, data.Length);
            }
            catch
            {
                outputs.Dispose();
                throw;
            }

            // The cache takes ownership of the present values; the logits were copied.
            int k = 1;
            for (int i = 0; i < layers; i++)
            {
                Replace(_selfCache, 2 * i, outputs[k]);
                k++;
                Replace(_selfCache, (2 * i) + 1, outputs[k]);
                k++;
                if (!cached)
                {
                    Replace(_crossCache, 2 * i, outputs[k]);
                    k++;
                    Replace(_crossCache, (2 * i) + 1, outputs[k]);
                    k++;
                }
            }

            outputs[0].Dispose();
            _started = true;
            Length += tokens.Length;
            return logits;
        }
        finally
        {
            foreach (OrtValue value in owned)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>
    /// Runs the decoder once over all of <paramref name="tokens"/> (no cache) and returns, for each requested layer, its
    /// cross-attention weights after the softmax, row-major [heads, tokens, encoder frames]. The decoding is not advanced.
    /// </summary>
    /// <exception cref="InvalidOperationException">The decoder has no cross-attention outputs.</exception>
    internal float[][] CrossAttentions(ReadOnlySpan<long> tokens, IReadOnlyList<int> layers, out int frames)
    {
        if (!_model.HasCrossAttentions)
        {
            throw new InvalidOperationException("The decoder has no cross-attention outputs.");
        }

        InferenceSession session = _model.FirstStepSession;
        var names = new List<string>();
        var values = new List<OrtValue>();
        var owned = new List<OrtValue>();
        try
        {
            AddInputs(session, tokens, cached: false, names, values, owned);
            string[] outputNames = [.. layers.Select(l => WhisperOnnxModel.Name(WhisperOnnxModel.CrossAttentionsFormat, l))];
            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, names, values, outputNames);
            var result = new float[layers.Count][];
            frames = 0;
            for (int i = 0; i < outputs.Count; i++)
            {
                long[] shape = outputs[i].GetTensorTypeAndShape().Shape;
                if (shape.Length != 4 || shape[0] != 1 || shape[1] != _model.Folder.DecoderHeads || shape[2] != tokens.Length)
                {
                    throw new InvalidOperationException($"{outputNames[i]} has shape [{string.Join(", ", shape)}], not [1, heads, tokens, frames].");
                }

                frames = (int)shape[3];
                result[i] = outputs[i].GetTensorDataAsSpan<float>().ToArray();
            }

            return result;
        }
        finally
        {
            foreach (OrtValue value in owned)
            {
                value.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (OrtValue value in _selfCache.Concat(_crossCache))
        {
            value.Dispose();
        }
    }

    private void AddInputs(InferenceSession session, ReadOnlySpan<long> tokens, bool cached, List<string> names, List<OrtValue> values, List<OrtValue> owned)
    {
        OrtValue ids = OrtValue.CreateTensorValueFromMemory(tokens.ToArray(), [1, tokens.Length]);
        owned.Add(ids);
        names.Add("input_ids");
        values.Add(ids);
        if (session.InputMetadata.ContainsKey("encoder_hidden_states"))
        {
            names.Add("encoder_hidden_states");
            values.Add(_encoderStates);
        }

        if (session.InputMetadata.ContainsKey("use_cache_branch"))
        {
            OrtValue flag = OrtValue.CreateTensorValueFromMemory(new[] { cached }, [1]);
            owned.Add(flag);
            names.Add("use_cache_branch");
            values.Add(flag);
        }

        for (int i = 0; i < _model.Folder.DecoderLayers; i++)
        {
            AddIfInput(session, WhisperOnnxModel.Name("past_key_values.{0}.decoder.key", i), _selfCache[2 * i], names, values);
            AddIfInput(session, WhisperOnnxModel.Name("past_key_values.{0}.decoder.value", i), _selfCache[(2 * i) + 1], names, values);
            AddIfInput(session, WhisperOnnxModel.Name("past_key_values.{0}.encoder.key", i), _crossCache[2 * i], names, values);
            AddIfInput(session, WhisperOnnxModel.Name("past_key_values.{0}.encoder.value", i), _crossCache[(2 * i) + 1], names, values);
        }
    }

    private static void Replace(OrtValue[] cache, int index, OrtValue value)
    {
        cache[index].Dispose();
        cache[index] = value;
    }

    private static void AddIfInput(InferenceSession session, string name, OrtValue value, List<string> names, List<OrtValue> values)
    {
        if (session.InputMetadata.ContainsKey(name))
        {
            names.Add(name);
            values.Add(value);
        }
    }

    private OrtValue Empty() =>
        OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [1, _model.Folder.DecoderHeads, 0, _model.HeadDim]);
}
