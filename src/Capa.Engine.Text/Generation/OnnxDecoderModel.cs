using System.Runtime.InteropServices;
using Capa.Models;
using Capa.Models.Config;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// An optimum/transformers.js decoder graph in one ONNX Runtime session: inputs <c>input_ids</c> (or
/// <c>inputs_embeds</c>, as vision-language decoders are exported), <c>attention_mask</c>, <c>position_ids</c> (when
/// present), <c>past_key_values.N.key/value</c> [batch, kv_heads, past, head_dim]; outputs <c>logits</c> and
/// <c>present.N.key/value</c>. The key/value cache stays in ONNX Runtime values: each step's presents are fed back as the
/// next step's pasts, never copied into managed memory. A graph that takes <c>inputs_embeds</c> gets its prompt as
/// embeddings (<see cref="IDecoderSequence.ForwardEmbeddings"/>, e.g. with image features scattered in), and each later
/// token embedded by its <see cref="ITokenEmbedder"/>.
/// </summary>
public sealed class OnnxDecoderModel : IDecoderModel, IDisposable
{
    private const string InputIds = "input_ids";
    private const string InputsEmbeds = "inputs_embeds";
    private const string AttentionMask = "attention_mask";
    private const string PositionIds = "position_ids";
    private const string Logits = "logits";
    private static readonly string[] LogitsToKeepNames = ["num_logits_to_keep", "logits_to_keep"];

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly Lock _compute = new();
    private readonly string[] _pastNames;
    private readonly string[] _outputNames;
    private readonly long[] _ones;
    private readonly TensorElementType _idType;
    private readonly string? _logitsToKeepName;
    private readonly bool _hasMask;
    private readonly bool _hasPositions;
    private readonly ITokenEmbedder? _embedder;
    private readonly bool _lastPositionRewritten;

    // Fewest rows a decode step runs with (0: decode is not batched); 2 where a kernel takes another path for one row.
    private readonly int _batchRows;
    private long[] _batchIds = [];
    private int[] _batchIds32 = [];
    private long[] _batchMask = [];
    private long[] _batchPositions = [];

    private OnnxDecoderModel(InferenceSession session, string onnxPath, ModelConfig config, OnnxDecoderOptions options, string? accuracyLevel, bool lastPositionRewritten,
        ITokenEmbedder? embedder, int batchRows, string? batchReason)
    {
        _lastPositionRewritten = lastPositionRewritten;
        _session = session;
        Options = options;
        MatMulNBitsAccuracyLevel = accuracyLevel;
        var inputs = session.InputMetadata;
        var outputs = session.OutputMetadata;
        if (!outputs.ContainsKey(Logits))
        {
            throw new ModelFolderException($"'{onnxPath}' has no logits output: it is not an optimum decoder export.");
        }

        var known = new HashSet<string>([AttentionMask, PositionIds, .. LogitsToKeepNames]);
        if (inputs.TryGetValue(InputIds, out var ids))
        {
            _idType = ids.ElementDataType;
            if (_idType is not (TensorElementType.Int64 or TensorElementType.Int32))
            {
                throw new ModelFolderException($"'{onnxPath}': input_ids has element type {_idType}; int64 or int32 expected.");
            }

            known.Add(InputIds);
        }
        else if (inputs.TryGetValue(InputsEmbeds, out var embeds))
        {
            // Vision-language exports embed tokens in a graph of their own (embed_tokens), so that image features can
            // replace some rows before the decoder sees them.
            _embedder = embedder ?? throw new ModelFolderException(
                $"'{onnxPath}' takes inputs_embeds instead of input_ids: it needs its embed_tokens graph (onnx/embed_tokens*.onnx) to run.");
            EmbeddingsElementType = embeds.ElementDataType;
            if (EmbeddingsElementType is not (TensorElementType.Float or TensorElementType.Float16))
            {
                throw new ModelFolderException($"'{onnxPath}': inputs_embeds has element type {EmbeddingsElementType}; float or float16 expected.");
            }

            var width = embeds.Dimensions.Length == 3 ? embeds.Dimensions[2] : -1;
            if (width > 0 && width != embedder.HiddenSize)
            {
                throw new ModelFolderException($"'{onnxPath}': inputs_embeds is {width} wide but the embed_tokens graph gives {embedder.HiddenSize}.");
            }

            HiddenSize = embedder.HiddenSize;
            known.Add(InputsEmbeds);
        }
        else
        {
            throw new ModelFolderException($"'{onnxPath}' has neither an input_ids nor an inputs_embeds input: it is not an optimum decoder export.");
        }

        _hasMask = inputs.ContainsKey(AttentionMask);
        _hasPositions = inputs.ContainsKey(PositionIds);
        // Qwen2-VL's multimodal RoPE takes position_ids as [3, batch, seq]: temporal, height and width rows.
        MultimodalPositionRows = _hasPositions && inputs[PositionIds].Dimensions is [3, _, _];
        _logitsToKeepName = LogitsToKeepNames.FirstOrDefault(inputs.ContainsKey);

        var layers = 0;
        while (inputs.ContainsKey($"past_key_values.{layers}.key"))
        {
            layers++;
        }

        if (layers == 0)
        {
            throw new ModelFolderException($"'{onnxPath}' has no past_key_values.0.key input: export the model with its key/value cache (optimum's 'text-generation-with-past').");
        }

        for (var i = 0; i < layers; i++)
        {
            known.Add($"past_key_values.{i}.key");
            known.Add($"past_key_values.{i}.value");
            if (!inputs.ContainsKey($"past_key_values.{i}.value") || !outputs.ContainsKey($"present.{i}.key") || !outputs.ContainsKey($"present.{i}.value"))
            {
                throw new ModelFolderException($"'{onnxPath}': layer {i} lacks past_key_values.{i}.value, present.{i}.key or present.{i}.value.");
            }
        }

        var unknown = inputs.Keys.Where(k => !known.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new ModelFolderException($"'{onnxPath}' has graph inputs no role feeds: {string.Join(", ", unknown)}.");
        }

        var kv = inputs["past_key_values.0.key"];
        KvElementType = kv.ElementDataType;
        if (KvElementType is not (TensorElementType.Float or TensorElementType.Float16))
        {
            throw new ModelFolderException($"'{onnxPath}': key/value cache element type {KvElementType} is not supported (float or float16).");
        }

        var dims = kv.Dimensions;
        if (dims.Length != 4)
        {
            throw new ModelFolderException($"'{onnxPath}': past_key_values.0.key has {dims.Length} dimensions; [batch, kv_heads, past, head_dim] expected.");
        }

        KvHeads = dims[1] > 0 ? dims[1] : config.NumKeyValueHeads
            ?? throw new ModelFolderException($"'{onnxPath}': the number of key/value heads is neither in the graph nor in config.json.");
        HeadDim = dims[3] > 0 ? dims[3] : config.HeadDim
            ?? throw new ModelFolderException($"'{onnxPath}': head_dim is neither in the graph nor in config.json.");
        LayerCount = layers;

        var logitsDims = outputs[Logits].Dimensions;
        LogitsWidth = logitsDims.Length == 3 && logitsDims[2] > 0 ? logitsDims[2] : config.VocabSize;
        LogitsElementType = outputs[Logits].ElementDataType;
        MaxContextLength = config.MaxContextLength;

        _pastNames = new string[2 * layers];
        _outputNames = new string[1 + (2 * layers)];
        _outputNames[0] = Logits;
        for (var i = 0; i < layers; i++)
        {
            _pastNames[2 * i] = $"past_key_values.{i}.key";
            _pastNames[(2 * i) + 1] = $"past_key_values.{i}.value";
            _outputNames[1 + (2 * i)] = $"present.{i}.key";
            _outputNames[2 + (2 * i)] = $"present.{i}.value";
        }

        _ones = new long[MaxContextLength];
        Array.Fill(_ones, 1L);

        // Decoders fed embeddings or three rows of positions keep decoding one sequence per forward.
        (_batchRows, BatchDecodeNotSupportedReason) = _embedder is not null
            ? (0, "the graph takes inputs_embeds")
            : MultimodalPositionRows
                ? (0, "the graph takes multimodal [3, batch, sequence] position_ids")
                : (batchRows, batchRows > 0 ? null : batchReason ?? "unknown");

        var bytesPerPosition = (long)LogitsWidth * (LogitsElementType == TensorElementType.Float16 ? 2 : 4);
        PrefillChunkTokens = ComputesLastLogitsOnly
            ? options.PrefillChunkTokens
            : (int)Math.Clamp(options.MaxPrefillLogitsBytes / bytesPerPosition, 1, options.PrefillChunkTokens);
    }

    /// <summary>
    /// The <c>accuracy_level</c> the 4-bit matmuls run with: null when the graph has none, <c>file:0</c> (the file's
    /// levels) when left as is, or the level written over the file's (e.g. <c>4 (file: 0)</c>).
    /// </summary>
    public string? MatMulNBitsAccuracyLevel { get; }

    /// <summary>
    /// Whether each layer's attention was rewritten at load into <c>com.microsoft.GroupQueryAttention</c>, which attends
    /// each batch row over its own right-padded positions (<see cref="OnnxDecoderOptions.GroupQueryAttention"/>).
    /// </summary>
    public bool AttentionRewritten { get; private init; }

    /// <summary>Why the attention was not rewritten (the graph's attention was not recognised, or the option is off); null when it was.</summary>
    public string? AttentionNotRewrittenReason { get; private init; }

    /// <summary>
    /// Whether <see cref="DecodeBatch"/> runs all its sequences in one forward: the attention was rewritten per sequence
    /// and every linear kernel gives a row the same bits whatever the other rows, on this CPU. Decode steps of one
    /// sequence then go through the same batched forward (padded with a dummy row where one-row kernels differ), so a
    /// sequence's numbers are the same alone and in any batch.
    /// </summary>
    public bool BatchesDecode => _batchRows > 0;

    /// <summary>Why decode steps are not batched (<see cref="BatchesDecode"/> false); null when they are.</summary>
    public string? BatchDecodeNotSupportedReason { get; }

    /// <summary>Fewest rows a batched decode step computes: 1, or 2 where a kernel takes another path for a row alone (0 when not batched).</summary>
    public int DecodeBatchMinRows => _batchRows;

    /// <summary>The options the session was created with.</summary>
    public OnnxDecoderOptions Options { get; }

    /// <summary>Whether <c>position_ids</c> is [3, batch, seq] (multimodal RoPE) rather than [batch, seq].</summary>
    public bool MultimodalPositionRows { get; }

    /// <summary>Decoder layers, discovered from the graph's <c>past_key_values.N</c> inputs.</summary>
    public int LayerCount { get; }

    /// <summary>Key/value heads per layer (graph metadata, else config.json).</summary>
    public int KvHeads { get; }

    /// <summary>Head dimension (graph metadata, else config.json).</summary>
    public int HeadDim { get; }

    /// <summary>Element type of the cache.</summary>
    public TensorElementType KvElementType { get; }

    /// <summary>Element type of the logits.</summary>
    public TensorElementType LogitsElementType { get; }

    /// <summary>Whether the graph takes <c>inputs_embeds</c> (its prompt may be given as embeddings) instead of <c>input_ids</c>.</summary>
    public bool TakesEmbeddings => _embedder is not null;

    /// <summary>Width of one embedding row when <see cref="TakesEmbeddings"/>; 0 otherwise.</summary>
    public int HiddenSize { get; }

    /// <summary>Element type of <c>inputs_embeds</c> when <see cref="TakesEmbeddings"/>.</summary>
    public TensorElementType EmbeddingsElementType { get; }

    /// <summary>Prompt tokens fed per prefill step (bounded so that one step's logits stay small).</summary>
    public int PrefillChunkTokens { get; }

    /// <summary>
    /// Whether each step computes the last position's logits only: the graph takes <c>num_logits_to_keep</c>, or its
    /// vocabulary projection was rewritten at load to gather the last position first (<see cref="OnnxDecoderOptions.ComputeLastLogitsOnly"/>).
    /// The logits read are bitwise those of the full projection, so this is not a fingerprint input; where the head projects
    /// two rows (<see cref="LogitsHeadRows"/>), a one-token forward's are those of the many-row kernel, and that is one.
    /// </summary>
    public bool ComputesLastLogitsOnly => _logitsToKeepName is not null || _lastPositionRewritten;

    /// <summary>
    /// Rows per sequence the rewritten vocabulary projection computes: 1 (the last position), 2 (the last position twice,
    /// where the head's kernel is row-invariant only from two rows on this CPU, so that it never takes its one-row path),
    /// or 0 when the projection was not rewritten.
    /// </summary>
    public int LogitsHeadRows { get; private init; }

    /// <summary>The execution provider (CPU).</summary>
    public static string ExecutionProvider => "CPUExecutionProvider";

    /// <inheritdoc/>
    public int LogitsWidth { get; }

    /// <inheritdoc/>
    public int MaxContextLength { get; }

    /// <summary>Bytes of key/value cache per token of a sequence.</summary>
    public long KvBytesPerToken => 2L * LayerCount * KvHeads * HeadDim * (KvElementType == TensorElementType.Float16 ? 2 : 4);

    /// <summary>The options that can change numbers, as fingerprint inputs.</summary>
    public IReadOnlyDictionary<string, string> NumericsOptions
    {
        get
        {
            var options = BaseNumericsOptions();
            if (LogitsHeadRows > 1)
            {
                // The head then always runs its many-row kernel, while the full projection of a one-token forward ran
                // the one-row kernel: another path, other bits. One-row rewrites change no bit and add no input.
                options["logits.head_rows"] = LogitsHeadRows.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return options;
        }
    }

    private SortedDictionary<string, string> BaseNumericsOptions() => new(StringComparer.Ordinal)
    {
        ["ep"] = ExecutionProvider,
        ["ep.intra_op_threads"] = Options.IntraOpThreads.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ep.graph_optimization_level"] = "all",
        ["ep.prefill_chunk_tokens"] = PrefillChunkTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ep.matmulnbits_accuracy_level"] = MatMulNBitsAccuracyLevel ?? "none",
        // ONNX Runtime picks its kernels by instruction set, and they round differently (e.g. a one-row 4-bit product
        // on AVX2 against AVX-512 VNNI), so the same weights and options give other bits on another class of CPU.
        ["cpu.kernels"] = KernelRowInvariance.CpuKernelClass,
        ["attention"] = AttentionRewritten ? "gqa" : "graph",
        // Batched decode pads a step to 2 rows where one-row kernels differ, which changes a lone sequence's bits.
        ["decode.min_rows"] = _batchRows.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <inheritdoc/>
    public void DecodeBatch(ReadOnlySpan<DecodeSlot> slots)
    {
        if (!BatchesDecode)
        {
            foreach (var slot in slots)
            {
                slot.Sequence.Forward([slot.Token]).CopyTo(slot.Logits);
            }

            return;
        }

        Sequence.Decode(this, slots);
    }

    // The sliding window config.json declares in use (sliding_window, unless use_sliding_window is false), if any.
    private static int? SlidingWindow(string configPath)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(configPath));
            var root = doc.RootElement;
            if (root.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                return null;
            }

            var text = root.TryGetProperty("text_config", out var nested) && nested.ValueKind == System.Text.Json.JsonValueKind.Object ? nested : root;
            if (text.TryGetProperty("use_sliding_window", out var use) && use.ValueKind == System.Text.Json.JsonValueKind.False)
            {
                return null;
            }

            return text.TryGetProperty("sliding_window", out var window) && window.ValueKind == System.Text.Json.JsonValueKind.Number
                && window.TryGetInt32(out var positions) && positions > 0
                ? positions
                : null;
        }
        catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // How many rows a decode step needs for every linear kernel of the graph to give a row the same bits whatever the
    // other rows (1 or 2), or 0 and why not.
    private static (int Rows, string? Reason) DecodeRows(byte[] model, int threads)
    {
        var (kernels, unknown) = LastPositionLogitsRewriter.LinearKernels(model);
        if (unknown is not null)
        {
            return (0, $"the row invariance of {unknown} cannot be checked");
        }

        var rows = 1;
        foreach (var kernel in kernels)
        {
            switch (KernelRowInvariance.Check(kernel, threads))
            {
                case RowInvariance.None:
                    return (0, $"{kernel} gives a row other bits depending on the other rows on this CPU ({KernelRowInvariance.CpuKernelClass})");
                case RowInvariance.FromTwoRows:
                    rows = 2;
                    break;
            }
        }

        return (rows, null);
    }

    /// <summary>Creates the session for a loaded folder.</summary>
    /// <exception cref="ModelFolderException">The graph is not a decoder with a key/value cache the engine can feed.</exception>
    public static OnnxDecoderModel Load(ModelFolder folder, OnnxDecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        options ??= new OnnxDecoderOptions();
        if (SlidingWindow(Path.Combine(folder.Directory, "config.json")) is { } window && window < folder.Config.MaxContextLength)
        {
            // The rewrite attends over each row's whole past; a window shorter than the context would be lost.
            options = options with { GroupQueryAttentionRuledOut = $"the config has a sliding window of {window} positions" };
        }

        return Load(folder.OnnxPath, folder.Config, options, embedder: null);
    }

    /// <summary>
    /// Creates the session for one decoder graph of a multi-part folder. <paramref name="config"/> fills in what the
    /// graph's metadata leaves symbolic (key/value heads, head size, vocabulary, context length); <paramref name="embedder"/>
    /// embeds tokens for a graph that takes <c>inputs_embeds</c> (it stays the caller's to dispose).
    /// </summary>
    /// <exception cref="ModelFolderException">The graph is not a decoder with a key/value cache the engine can feed.</exception>
    public static OnnxDecoderModel Load(string onnxPath, ModelConfig config, OnnxDecoderOptions? options = null, ITokenEmbedder? embedder = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        ArgumentNullException.ThrowIfNull(config);
        options ??= new OnnxDecoderOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.IntraOpThreads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PrefillChunkTokens, 1);
        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            EnableMemoryPattern = options.EnableMemoryPattern,
            EnableCpuMemArena = true,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        InferenceSession session;
        string? accuracy = null;
        var lastPosition = false;
        var headRows = 0;
        var attention = 0;
        string? attentionReason = null;
        var batchRows = 0;
        string? batchReason = null;
        try
        {
            var bytes = File.ReadAllBytes(onnxPath);
            var rewritten = false;
            if (bytes.AsSpan().IndexOf("MatMulNBits"u8) >= 0)
            {
                if (options.MatMulNBitsAccuracyLevel is { } level)
                {
                    var (model, count, previous) = MatMulNBitsRewriter.Rewrite(bytes, level);
                    accuracy = count == 0 ? null : previous.SetEquals([level]) ? $"{level}" : $"{level} (file: {string.Join(",", previous.Order())})";
                    rewritten = !ReferenceEquals(model, bytes);
                    bytes = model;
                }
                else
                {
                    var (_, count, previous) = MatMulNBitsRewriter.Rewrite(bytes, 0);
                    accuracy = count == 0 ? null : $"file:{string.Join(",", previous.Order())}";
                }
            }

            if (embedder is not null)
            {
                // The rewrite only serves batched decode, which graphs fed embeddings do not use: keep their numbers.
                attentionReason = "the graph takes inputs_embeds";
            }
            else if (options.GroupQueryAttentionRuledOut is { } ruledOut)
            {
                attentionReason = ruledOut;
            }
            else if (options.GroupQueryAttention)
            {
                var gqa = GroupQueryAttentionRewriter.Rewrite(bytes);
                if (gqa.Model is { } model)
                {
                    bytes = model;
                    rewritten = true;
                    attention = gqa.Layers;
                }
                else
                {
                    attentionReason = gqa.Reason;
                }
            }
            else
            {
                attentionReason = "the GroupQueryAttention rewrite is off";
            }

            // A graph that takes num_logits_to_keep already computes the last position only.
            if (options.ComputeLastLogitsOnly && bytes.AsSpan().IndexOf("logits_to_keep"u8) < 0
                && (options.HeadRowInvariance is { } invariant
                    ? LastPositionLogitsRewriter.Rewrite(bytes, invariant)
                    : LastPositionLogitsRewriter.Rewrite(bytes, options.IntraOpThreads)) is ({ } gathered, var rows))
            {
                bytes = gathered;
                rewritten = true;
                lastPosition = true;
                headRows = rows;
            }

            if (attention == 0)
            {
                batchReason = "its attention was not rewritten into GroupQueryAttention (" + attentionReason + ")";
            }
            else if (bytes.AsSpan().IndexOf("DynamicQuantizeLinear"u8) >= 0)
            {
                batchReason = "DynamicQuantizeLinear quantises activations with one scale for the whole batch, so a row's numbers depend on the other rows";
            }
            else
            {
                (batchRows, batchReason) = DecodeRows(bytes, options.IntraOpThreads);
            }

            if (rewritten)
            {
                // Loaded from memory, the session resolves external data files against the model's folder.
                sessionOptions.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", Path.GetDirectoryName(onnxPath)!);
                session = new InferenceSession(bytes, sessionOptions);
            }
            else
            {
                bytes = [];
                session = new InferenceSession(onnxPath, sessionOptions);
            }
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelFolderException($"ONNX Runtime cannot load '{onnxPath}': {ex.Message}", ex);
        }
        catch (InvalidDataException ex)
        {
            throw new ModelFolderException($"'{onnxPath}' is not a valid ONNX model: {ex.Message}", ex);
        }

        try
        {
            return new OnnxDecoderModel(session, onnxPath, config, options, accuracy, lastPosition, embedder, batchRows, batchReason)
            {
                AttentionRewritten = attention > 0,
                AttentionNotRewrittenReason = attentionReason,
                LogitsHeadRows = headRows,
            };
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public IDecoderSequence CreateSequence() => new Sequence(this, null, 0);

    /// <inheritdoc/>
    public bool SupportsKvBlocks => true;

    /// <inheritdoc/>
    public IDecoderSequence CreateSequence(IReadOnlyList<KvBlock> prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var length = prefix.Sum(b => b.Positions);
        if (length > MaxContextLength)
        {
            throw new ArgumentException($"The blocks hold {length} positions; the context is {MaxContextLength}.", nameof(prefix));
        }

        var rowBytes = HeadDim * KvElementSize;
        foreach (var block in prefix)
        {
            if (block.Tensors.Count != _pastNames.Length || block.Tensors.Any(t => t.Length != (long)KvHeads * block.Positions * rowBytes))
            {
                throw new ArgumentException("A block does not have this decoder's cache layout.", nameof(prefix));
            }
        }

        var cache = new OrtValue[_pastNames.Length];
        try
        {
            for (var t = 0; t < cache.Length; t++)
            {
                cache[t] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, KvElementType, [1, KvHeads, length, HeadDim]);
                var target = cache[t].GetTensorMutableDataAsSpan<byte>();
                var offset = 0;
                foreach (var block in prefix)
                {
                    // Each head's rows of the block go after that head's rows of the blocks before it.
                    var run = block.Positions * rowBytes;
                    var source = block.Tensors[t];
                    for (var h = 0; h < KvHeads; h++)
                    {
                        source.AsSpan(h * run, run).CopyTo(target.Slice((h * length * rowBytes) + offset, run));
                    }

                    offset += run;
                }
            }
        }
        catch
        {
            foreach (var value in cache)
            {
                value?.Dispose();
            }

            throw;
        }

        return new Sequence(this, cache, length);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    private int KvElementSize => KvElementType == TensorElementType.Float16 ? 2 : 4;

    private OrtValue EmptyCache() =>
        OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, KvElementType, [1, KvHeads, 0, HeadDim]);

    private sealed class Sequence : IDecoderSequence
    {
        private readonly OnnxDecoderModel _model;
        private readonly float[] _logits;
        private OrtValue[] _cache;
        private bool _disposed;
        private MultimodalPositions? _positions;

        public Sequence(OnnxDecoderModel model, OrtValue[]? cache, int length)
        {
            _model = model;
            _logits = new float[model.LogitsWidth];
            Length = length;
            if (cache is null)
            {
                cache = new OrtValue[model._pastNames.Length];
                for (var i = 0; i < cache.Length; i++)
                {
                    cache[i] = model.EmptyCache();
                }
            }

            _cache = cache;
        }

        public int Length { get; private set; }

        public void UseMultimodalPositions(MultimodalPositions positions)
        {
            ArgumentNullException.ThrowIfNull(positions);
            if (!_model.MultimodalPositionRows)
            {
                throw new NotSupportedException("This decoder has one row of positions.");
            }

            if (Length != 0)
            {
                throw new InvalidOperationException("Positions are given before the prompt is fed.");
            }

            _positions = positions;
        }

        public ReadOnlySpan<float> Forward(ReadOnlySpan<int> tokens)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (tokens.IsEmpty)
            {
                throw new ArgumentException("At least one token is needed.", nameof(tokens));
            }

            if (Length + tokens.Length > _model.MaxContextLength)
            {
                throw new InvalidOperationException($"The sequence would exceed the model's context of {_model.MaxContextLength} tokens.");
            }

            if (tokens.Length == 1 && _model.BatchesDecode)
            {
                // One position: the batched decode step, so that a sequence's numbers are the same alone and in a batch.
                Decode(_model, [new DecodeSlot(this, tokens[0], _logits)]);
                return _logits;
            }

            var chunk = _model.PrefillChunkTokens;
            for (var start = 0; start < tokens.Length; start += chunk)
            {
                var part = tokens.Slice(start, Math.Min(chunk, tokens.Length - start));
                if (_model._embedder is { } embedder)
                {
                    // A decoder fed embeddings: later tokens go through the embed_tokens graph first.
                    var embeddings = new float[part.Length * embedder.HiddenSize];
                    embedder.Embed(part, embeddings);
                    Step(default, embeddings, part.Length, start + part.Length == tokens.Length);
                }
                else
                {
                    Step(part, default, part.Length, start + part.Length == tokens.Length);
                }
            }

            return _logits;
        }

        public ReadOnlySpan<float> ForwardEmbeddings(ReadOnlySpan<float> embeddings)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var hidden = _model.HiddenSize;
            if (!_model.TakesEmbeddings)
            {
                throw new NotSupportedException("This decoder takes input_ids, not inputs_embeds.");
            }

            if (embeddings.IsEmpty || embeddings.Length % hidden != 0)
            {
                throw new ArgumentException($"Embeddings must be whole rows of {hidden} values, at least one.", nameof(embeddings));
            }

            var count = embeddings.Length / hidden;
            if (Length + count > _model.MaxContextLength)
            {
                throw new InvalidOperationException($"The sequence would exceed the model's context of {_model.MaxContextLength} tokens.");
            }

            var chunk = _model.PrefillChunkTokens;
            for (var start = 0; start < count; start += chunk)
            {
                var rows = Math.Min(chunk, count - start);
                Step(default, embeddings.Slice(start * hidden, rows * hidden), rows, start + rows == count);
            }

            return _logits;
        }

        // Feeds n positions, given as token ids or (for an inputs_embeds graph) as n rows of embeddings.
        private void Step(ReadOnlySpan<int> tokens, ReadOnlySpan<float> embeddings, int n, bool keepLogits)
        {
            var m = _model;
            var names = new List<string>(4 + m._pastNames.Length);
            var values = new List<OrtValue>(4 + m._pastNames.Length);
            var owned = new List<OrtValue>(4);
            try
            {
                OrtValue first;
                if (m._embedder is not null)
                {
                    names.Add(InputsEmbeds);
                    long[] shape = [1, n, m.HiddenSize];
                    if (m.EmbeddingsElementType == TensorElementType.Float16)
                    {
                        var half = new Float16[embeddings.Length];
                        for (var i = 0; i < half.Length; i++)
                        {
                            half[i] = (Float16)embeddings[i];
                        }

                        first = OrtValue.CreateTensorValueFromMemory(half, shape);
                    }
                    else
                    {
                        first = OrtValue.CreateTensorValueFromMemory(embeddings.ToArray(), shape);
                    }
                }
                else if (m._idType == TensorElementType.Int64)
                {
                    names.Add(InputIds);
                    var buffer = new long[n];
                    for (var i = 0; i < n; i++)
                    {
                        buffer[i] = tokens[i];
                    }

                    first = OrtValue.CreateTensorValueFromMemory(buffer, [1, n]);
                }
                else
                {
                    names.Add(InputIds);
                    first = OrtValue.CreateTensorValueFromMemory(tokens.ToArray(), [1, n]);
                }

                owned.Add(first);
                values.Add(first);
                if (m._hasMask)
                {
                    var mask = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, m._ones.AsMemory(0, Length + n), [1, Length + n]);
                    owned.Add(mask);
                    names.Add(AttentionMask);
                    values.Add(mask);
                }

                if (m._hasPositions && m.MultimodalPositionRows)
                {
                    var positions = new long[3 * n];
                    if (_positions is { } rows)
                    {
                        rows.Write(Length, n, positions);
                    }
                    else
                    {
                        for (var i = 0; i < n; i++)
                        {
                            positions[i] = positions[n + i] = positions[(2 * n) + i] = Length + i;
                        }
                    }

                    var pos = OrtValue.CreateTensorValueFromMemory(positions, [3, 1, n]);
                    owned.Add(pos);
                    names.Add(PositionIds);
                    values.Add(pos);
                }
                else if (m._hasPositions)
                {
                    var positions = new long[n];
                    for (var i = 0; i < n; i++)
                    {
                        positions[i] = Length + i;
                    }

                    var pos = OrtValue.CreateTensorValueFromMemory(positions, [1, n]);
                    owned.Add(pos);
                    names.Add(PositionIds);
                    values.Add(pos);
                }

                if (m._logitsToKeepName is { } keepName)
                {
                    var keep = OrtValue.CreateTensorValueFromMemory(new long[] { 1 }, []);
                    owned.Add(keep);
                    names.Add(keepName);
                    values.Add(keep);
                }

                names.AddRange(m._pastNames);
                values.AddRange(_cache);

                IDisposableReadOnlyCollection<OrtValue> outputs;
                lock (m._compute)
                {
                    // One forward at a time per model: each runs with all intra-op threads, and its arithmetic never
                    // depends on what else is running.
                    outputs = m._session.Run(m._runOptions, names, values, m._outputNames);
                }

                var logits = outputs[0];
                try
                {
                    if (keepLogits)
                    {
                        ReadLastLogits(logits);
                    }
                }
                finally
                {
                    logits.Dispose();
                }

                var next = new OrtValue[_cache.Length];
                for (var i = 0; i < next.Length; i++)
                {
                    next[i] = outputs[i + 1];
                }

                foreach (var old in _cache)
                {
                    old.Dispose();
                }

                _cache = next;
                Length += n;
            }
            finally
            {
                foreach (var value in owned)
                {
                    value.Dispose();
                }
            }
        }

        // One decode step of every slot's sequence in one forward: input ids [rows, 1], each row's own position, the
        // attention mask right-padded per row (ones for the row's positions, then zeros) and the pasts right-padded to
        // the longest; rows past the slots are dummies (an empty past) that only fill the batch to the fewest rows.
        internal static void Decode(OnnxDecoderModel m, ReadOnlySpan<DecodeSlot> slots)
        {
            var n = slots.Length;
            if (n == 0)
            {
                return;
            }

            var sequences = new Sequence[n];
            var longest = 0;
            for (var b = 0; b < n; b++)
            {
                if (slots[b].Sequence is not Sequence s || !ReferenceEquals(s._model, m))
                {
                    throw new ArgumentException("A slot's sequence was not created by this model.", nameof(slots));
                }

                ObjectDisposedException.ThrowIf(s._disposed, s);
                if (s.Length + 1 > m.MaxContextLength)
                {
                    throw new InvalidOperationException($"The sequence would exceed the model's context of {m.MaxContextLength} tokens.");
                }

                if (slots[b].Logits is null || slots[b].Logits.Length < m.LogitsWidth)
                {
                    throw new ArgumentException($"A slot's logits buffer holds fewer than {m.LogitsWidth} values.", nameof(slots));
                }

                for (var other = 0; other < b; other++)
                {
                    if (ReferenceEquals(sequences[other], s))
                    {
                        throw new ArgumentException("A sequence appears in two slots.", nameof(slots));
                    }
                }

                sequences[b] = s;
                longest = Math.Max(longest, s.Length);
            }

            var rows = Math.Max(n, m._batchRows);
            var total = longest + 1;
            var rowBytes = m.HeadDim * m.KvElementSize;
            var names = new List<string>(4 + m._pastNames.Length);
            var values = new List<OrtValue>(4 + m._pastNames.Length);
            IDisposableReadOnlyCollection<OrtValue>? outputs = null;
            lock (m._compute)
            {
                try
                {
                    Grow(ref m._batchMask, rows * total);
                    Grow(ref m._batchPositions, rows);
                    var mask = m._batchMask.AsSpan(0, rows * total);
                    mask.Clear();
                    for (var b = 0; b < rows; b++)
                    {
                        var length = b < n ? sequences[b].Length : 0;
                        mask.Slice(b * total, length + 1).Fill(1L);
                        m._batchPositions[b] = length;
                    }

                    names.Add(InputIds);
                    if (m._idType == TensorElementType.Int64)
                    {
                        Grow(ref m._batchIds, rows);
                        for (var b = 0; b < rows; b++)
                        {
                            m._batchIds[b] = b < n ? slots[b].Token : 0;
                        }

                        values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, m._batchIds.AsMemory(0, rows), [rows, 1]));
                    }
                    else
                    {
                        Grow(ref m._batchIds32, rows);
                        for (var b = 0; b < rows; b++)
                        {
                            m._batchIds32[b] = b < n ? slots[b].Token : 0;
                        }

                        values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, m._batchIds32.AsMemory(0, rows), [rows, 1]));
                    }

                    if (m._hasMask)
                    {
                        names.Add(AttentionMask);
                        values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, m._batchMask.AsMemory(0, rows * total), [rows, total]));
                    }

                    if (m._hasPositions)
                    {
                        names.Add(PositionIds);
                        values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, m._batchPositions.AsMemory(0, rows), [rows, 1]));
                    }

                    if (m._logitsToKeepName is { } keepName)
                    {
                        names.Add(keepName);
                        values.Add(OrtValue.CreateTensorValueFromMemory(new long[] { 1 }, []));
                    }

                    for (var t = 0; t < m._pastNames.Length; t++)
                    {
                        // [rows, kv_heads, longest, head_dim], each row's positions first; the padding is never read
                        // (each row attends over its own mask sum) but is zeroed so that nothing depends on old memory.
                        var past = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, m.KvElementType, [rows, m.KvHeads, longest, m.HeadDim]);
                        values.Add(past);
                        names.Add(m._pastNames[t]);
                        var target = past.GetTensorMutableDataAsSpan<byte>();
                        target.Clear();
                        for (var b = 0; b < n; b++)
                        {
                            var length = sequences[b].Length;
                            var source = sequences[b]._cache[t].GetTensorDataAsSpan<byte>();
                            for (var h = 0; h < m.KvHeads; h++)
                            {
                                source.Slice(h * length * rowBytes, length * rowBytes)
                                    .CopyTo(target.Slice(((b * m.KvHeads) + h) * longest * rowBytes));
                            }
                        }
                    }

                    outputs = m._session.Run(m._runOptions, names, values, m._outputNames);
                }
                finally
                {
                    foreach (var value in values)
                    {
                        value.Dispose();
                    }
                }
            }

            using (outputs)
            {
                var logits = outputs[0];
                var shape = logits.GetTensorTypeAndShape().Shape;
                var width = (int)shape[^1];
                if (width != m.LogitsWidth || shape[0] != rows)
                {
                    throw new InvalidOperationException($"The graph returned logits of shape [{string.Join(", ", shape)}]; [{rows}, ·, {m.LogitsWidth}] expected.");
                }

                var perRow = (int)(shape.Aggregate(1L, (a, d) => a * d) / rows);
                for (var b = 0; b < n; b++)
                {
                    // The last position of row b.
                    var start = (b * perRow) + perRow - width;
                    var into = slots[b].Logits.AsSpan(0, width);
                    if (m.LogitsElementType == TensorElementType.Float16)
                    {
                        var all = MemoryMarshal.Cast<byte, Half>(logits.GetTensorDataAsSpan<byte>()).Slice(start, width);
                        for (var i = 0; i < width; i++)
                        {
                            into[i] = (float)all[i];
                        }
                    }
                    else
                    {
                        logits.GetTensorDataAsSpan<float>().Slice(start, width).CopyTo(into);
                    }
                }

                for (var t = 0; t < m._pastNames.Length; t++)
                {
                    var present = outputs[t + 1];
                    var stride = (int)present.GetTensorTypeAndShape().Shape[2];
                    var source = present.GetTensorDataAsSpan<byte>();
                    for (var b = 0; b < n; b++)
                    {
                        var s = sequences[b];
                        var length = s.Length + 1;
                        var next = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, m.KvElementType, [1, m.KvHeads, length, m.HeadDim]);
                        var target = next.GetTensorMutableDataAsSpan<byte>();
                        for (var h = 0; h < m.KvHeads; h++)
                        {
                            source.Slice(((b * m.KvHeads) + h) * stride * rowBytes, length * rowBytes).CopyTo(target.Slice(h * length * rowBytes));
                        }

                        s._cache[t].Dispose();
                        s._cache[t] = next;
                    }
                }
            }

            for (var b = 0; b < n; b++)
            {
                var s = sequences[b];
                s.Length++;
                if (!ReferenceEquals(slots[b].Logits, s._logits))
                {
                    slots[b].Logits.AsSpan(0, m.LogitsWidth).CopyTo(s._logits);
                }
            }
        }

        private static void Grow<T>(ref T[] buffer, int length)
        {
            if (buffer.Length < length)
            {
                buffer = new T[Math.Max(length, buffer.Length * 2)];
            }
        }

        private void ReadLastLogits(OrtValue logits)
        {
            var shape = logits.GetTensorTypeAndShape().Shape;
            var width = (int)shape[^1];
            if (width != _logits.Length)
            {
                throw new InvalidOperationException($"The graph returned {width} logits per position; {_logits.Length} expected.");
            }

            var raw = logits.GetTensorDataAsSpan<byte>();
            if (_model.LogitsElementType == TensorElementType.Float16)
            {
                var all = MemoryMarshal.Cast<byte, Half>(raw);
                var last = all[^width..];
                for (var i = 0; i < width; i++)
                {
                    _logits[i] = (float)last[i];
                }
            }
            else
            {
                MemoryMarshal.Cast<byte, float>(raw)[^width..].CopyTo(_logits);
            }
        }

        public KvBlock CopyKv(int start, int count)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (start < 0 || count < 1 || start + count > Length)
            {
                throw new ArgumentOutOfRangeException(nameof(count), $"Positions {start}..{start + count} are not all in the sequence's {Length}.");
            }

            var m = _model;
            var rowBytes = m.HeadDim * m.KvElementSize;
            var run = count * rowBytes;
            var tensors = new byte[_cache.Length][];
            for (var t = 0; t < tensors.Length; t++)
            {
                var source = _cache[t].GetTensorDataAsSpan<byte>();
                var copy = new byte[m.KvHeads * run];
                for (var h = 0; h < m.KvHeads; h++)
                {
                    source.Slice(((h * Length) + start) * rowBytes, run).CopyTo(copy.AsSpan(h * run, run));
                }

                tensors[t] = copy;
            }

            return new KvBlock(count, tensors);
        }

        public IDecoderSequence Fork()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var copy = new OrtValue[_cache.Length];
            try
            {
                for (var i = 0; i < copy.Length; i++)
                {
                    var info = _cache[i].GetTensorTypeAndShape();
                    copy[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, info.ElementDataType, info.Shape);
                    _cache[i].GetTensorDataAsSpan<byte>().CopyTo(copy[i].GetTensorMutableDataAsSpan<byte>());
                }
            }
            catch
            {
                foreach (var value in copy)
                {
                    value?.Dispose();
                }

                throw;
            }

            var fork = new Sequence(_model, copy, Length);
            fork._positions = _positions;
            _logits.CopyTo(fork._logits, 0);
            return fork;
        }

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var value in _cache)
            {
                value.Dispose();
            }

            _cache = [];
        }
    }
}
