using System.Numerics.Tensors;
using System.Text.Json;
using Capa.Tokenizers;
using Capa.Tokenizers.WordPiece;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Embeddings;

/// <summary>How token vectors become one sentence vector.</summary>
public enum SentencePooling
{
    /// <summary>The mean of the token vectors under the attention mask (all-MiniLM, e5).</summary>
    Mean,

    /// <summary>The first token's vector, <c>[CLS]</c> (bge).</summary>
    Cls,
}

/// <summary>Options of a <see cref="SentenceEncoder"/>.</summary>
public sealed record SentenceEncoderOptions
{
    /// <summary>ONNX Runtime threads inside one run.</summary>
    public int IntraOpThreads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>The most texts run together (one padded batch).</summary>
    public int MaxBatchSize { get; init; } = 16;
}

/// <summary>
/// A BERT-style sentence encoder in ONNX, as sentence-transformers models are published (Xenova/all-MiniLM-L6-v2,
/// bge-small, multilingual-e5): <c>onnx/model.onnx</c> (or <c>model.onnx</c>) taking <c>input_ids</c>,
/// <c>attention_mask</c> and optionally <c>token_type_ids</c> and giving <c>last_hidden_state</c>; a WordPiece (BERT)
/// or Unigram (XLM-RoBERTa) <c>tokenizer.json</c>; pooling from <c>1_Pooling/config.json</c> (mean unless it names the
/// CLS token); vectors L2-normalised. Padding uses <c>pad_token_id</c>; RoBERTa-family models number positions from
/// <c>pad_token_id + 1</c> inside the graph, so their longest input is <c>max_position_embeddings - pad_token_id - 1</c>.
/// </summary>
/// <remarks>Thread-safe: ONNX Runtime sessions run concurrently.</remarks>
public sealed class SentenceEncoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly bool _hasTokenTypes;
    private readonly string _output;
    private readonly int _maxBatch;
    private readonly long _padId;

    private SentenceEncoder(string directory, InferenceSession session, IEncoderTokenizer tokenizer, SentencePooling pooling, SentencePrompts prompts, int dimensions, int maxTokens, int maxBatch, long padId)
    {
        _padId = padId;
        Prompts = prompts;
        Directory = directory;
        _session = session;
        Tokenizer = tokenizer;
        Pooling = pooling;
        Dimensions = dimensions;
        MaxTokens = maxTokens;
        _maxBatch = maxBatch;
        _hasTokenTypes = session.InputMetadata.ContainsKey("token_type_ids");
        _output = session.OutputMetadata.ContainsKey("last_hidden_state") ? "last_hidden_state" : session.OutputNames[0];
    }

    /// <summary>The model folder.</summary>
    public string Directory { get; }

    /// <summary>The tokenizer.</summary>
    public IEncoderTokenizer Tokenizer { get; }

    /// <summary>The pooling.</summary>
    public SentencePooling Pooling { get; }

    /// <summary>
    /// The query and passage prefixes the model was trained with (<see cref="SentencePrompts.Read"/>). <see cref="Encode"/>
    /// never adds them: the caller that knows a text's side does.
    /// </summary>
    public SentencePrompts Prompts { get; }

    /// <summary>The vector length (the hidden size).</summary>
    public int Dimensions { get; }

    /// <summary>The longest input in tokens (special tokens included): <c>max_position_embeddings</c>.</summary>
    public int MaxTokens { get; }

    /// <summary>Whether a folder looks like a sentence encoder this class runs (a WordPiece or Unigram tokenizer and a BERT-like config).</summary>
    public static bool IsEncoderFolder(string directory)
    {
        if (FindModel(directory) is null || !File.Exists(Path.Combine(directory, "tokenizer.json")) || !File.Exists(Path.Combine(directory, "config.json")))
        {
            return false;
        }

        try
        {
            using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "config.json")));
            if (!config.RootElement.TryGetProperty("model_type", out var type) || type.GetString() is not ("bert" or "xlm-roberta" or "roberta" or "distilbert" or "mpnet"))
            {
                return false;
            }

            using var tokenizer = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "tokenizer.json")));
            return WordPieceTokenizer.IsWordPiece(tokenizer.RootElement) || IsUnigram(tokenizer.RootElement);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Loads a folder.</summary>
    /// <exception cref="InvalidDataException">The folder is not a sentence encoder this class runs.</exception>
    public static SentenceEncoder Load(string directory, SentenceEncoderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new SentenceEncoderOptions();
        var modelPath = FindModel(directory) ?? throw new InvalidDataException($"No onnx/model.onnx in '{directory}'.");
        var tokenizer = LoadTokenizer(directory);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "config.json")));
        var hidden = config.RootElement.GetProperty("hidden_size").GetInt32();
        var maxTokens = config.RootElement.TryGetProperty("max_position_embeddings", out var m) ? m.GetInt32() : 512;
        var padId = config.RootElement.TryGetProperty("pad_token_id", out var pad) && pad.ValueKind == JsonValueKind.Number ? pad.GetInt32() : 0;
        if (config.RootElement.TryGetProperty("model_type", out var type) && type.GetString() is "xlm-roberta" or "roberta")
        {
            // Position padding_idx + 1 is the first token's: the table holds padding_idx + 1 rows no token uses.
            maxTokens -= padId + 1;
        }
        var pooling = ReadPooling(directory);
        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        InferenceSession session;
        try
        {
            session = new InferenceSession(modelPath, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"ONNX Runtime cannot load '{modelPath}': {e.Message}", e);
        }

        if (!session.InputMetadata.ContainsKey("input_ids") || !session.InputMetadata.ContainsKey("attention_mask"))
        {
            session.Dispose();
            throw new InvalidDataException($"'{modelPath}' lacks the inputs input_ids and attention_mask.");
        }

        return new SentenceEncoder(Path.GetFullPath(directory), session, tokenizer, pooling, SentencePrompts.Read(directory), hidden, maxTokens, Math.Max(1, options.MaxBatchSize), padId);
    }

    private static IEncoderTokenizer LoadTokenizer(string directory)
    {
        var json = File.ReadAllText(Path.Combine(directory, "tokenizer.json"));
        using (var document = JsonDocument.Parse(json))
        {
            if (WordPieceTokenizer.IsWordPiece(document.RootElement))
            {
                return WordPieceTokenizer.FromJson(json);
            }
        }

        try
        {
            return HfTokenizer.FromFolder(directory);
        }
        catch (Exception e) when (e is FormatException or NotSupportedException)
        {
            throw new InvalidDataException($"The tokenizer in '{directory}' cannot be read: {e.Message}", e);
        }
    }

    private static bool IsUnigram(JsonElement root) =>
        root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object
        && model.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "Unigram";

    /// <summary>Tokenizes a text as the model sees it (special tokens included).</summary>
    public int[] Tokenize(string text) => Tokenizer.Encode(text, addSpecialTokens: true, int.MaxValue, out _);

    /// <summary>
    /// Tokenizes a text as <see cref="Tokenize(string)"/> does, stopping once it has more than
    /// <paramref name="maxTokens"/> ids: then <paramref name="complete"/> is false and the ids are only the first ones.
    /// A text far beyond the limit costs no more than one at the limit.
    /// </summary>
    public int[] Tokenize(string text, int maxTokens, out bool complete) =>
        Tokenizer.Encode(text, addSpecialTokens: true, maxTokens, out complete);

    /// <summary>Encodes texts to unit vectors, running them in padded batches; inputs longer than <see cref="MaxTokens"/> are cut.</summary>
    public float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return EncodeIds([.. texts.Select(Tokenize)], cancellationToken);
    }

    /// <summary>Encodes token sequences (as given: no special tokens added) to unit vectors.</summary>
    public float[][] EncodeIds(IReadOnlyList<int[]> sequences, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        var results = new float[sequences.Count][];

        // Similar lengths together waste less on padding.
        var order = Enumerable.Range(0, sequences.Count).OrderBy(i => sequences[i].Length).ToArray();
        for (var start = 0; start < order.Length; start += _maxBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = order.AsSpan(start, Math.Min(_maxBatch, order.Length - start)).ToArray();
            var vectors = RunBatch([.. batch.Select(i => Cut(sequences[i]))]);
            for (var j = 0; j < batch.Length; j++)
            {
                results[batch[j]] = vectors[j];
            }
        }

        return results;
    }

    private int[] Cut(int[] ids)
    {
        if (ids.Length <= MaxTokens)
        {
            return ids.Length == 0 ? [0] : ids;
        }

        // Keep the closing special token(s) so a cut input still ends as the model was trained on.
        var cut = ids[..MaxTokens];
        var suffix = Tokenizer.SpecialTokenCount > 1 ? ids[^1] : -1;
        if (suffix >= 0)
        {
            cut[^1] = suffix;
        }

        return cut;
    }

    private float[][] RunBatch(int[][] sequences)
    {
        var batch = sequences.Length;
        var length = sequences.Max(s => s.Length);
        var ids = new long[batch * length];
        Array.Fill(ids, _padId);
        var mask = new long[batch * length];
        for (var b = 0; b < batch; b++)
        {
            for (var t = 0; t < sequences[b].Length; t++)
            {
                ids[(b * length) + t] = sequences[b][t];
                mask[(b * length) + t] = 1;
            }
        }

        long[] shape = [batch, length];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(new long[batch * length], shape);
        var names = new List<string> { "input_ids", "attention_mask" };
        var values = new List<OrtValue> { idsValue, maskValue };
        if (_hasTokenTypes)
        {
            names.Add("token_type_ids");
            values.Add(typesValue);
        }

        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, names, values, [_output]);
        var hidden = outputs[0].GetTensorDataAsSpan<float>();
        var dims = Dimensions;
        var results = new float[batch][];
        for (var b = 0; b < batch; b++)
        {
            var vector = new float[dims];
            if (Pooling == SentencePooling.Cls)
            {
                hidden.Slice(b * length * dims, dims).CopyTo(vector);
            }
            else
            {
                var count = sequences[b].Length;
                for (var t = 0; t < count; t++)
                {
                    TensorPrimitives.Add(vector, hidden.Slice(((b * length) + t) * dims, dims), vector);
                }

                TensorPrimitives.Divide(vector, count, vector);
            }

            Normalize(vector);
            results[b] = vector;
        }

        return results;
    }

    /// <summary>Scales a vector to unit length (a zero vector stays zero).</summary>
    public static void Normalize(Span<float> vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0)
        {
            TensorPrimitives.Divide(vector, Math.Max(norm, 1e-12f), vector);
        }
    }

    private static string? FindModel(string directory)
    {
        foreach (var candidate in new[] { Path.Combine(directory, "onnx", "model.onnx"), Path.Combine(directory, "model.onnx") })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static SentencePooling ReadPooling(string directory)
    {
        var path = Path.Combine(directory, "1_Pooling", "config.json");
        if (!File.Exists(path))
        {
            return SentencePooling.Mean;
        }

        using var pooling = JsonDocument.Parse(File.ReadAllText(path));
        return pooling.RootElement.TryGetProperty("pooling_mode_cls_token", out var cls) && cls.ValueKind == JsonValueKind.True
            ? SentencePooling.Cls
            : SentencePooling.Mean;
    }

    public void Dispose() => _session.Dispose();
}
