using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Capa.TestModels.Tests;

/// <summary>
/// Raw ONNX Runtime calls on a generated decoder, independent of the engine: the reference the tests hold
/// the files to. Keeps the KV cache as the graph's present tensors and feeds them back as past.
/// </summary>
internal sealed class OrtDecoder : IDisposable
{
    private readonly InferenceSession _session;

    public OrtDecoder(string modelPath)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        _session = new InferenceSession(modelPath, options);
        Layers = _session.InputMetadata.Keys.Count(k => k.StartsWith("past_key_values.", StringComparison.Ordinal) && k.EndsWith(".key", StringComparison.Ordinal));
        var past = _session.InputMetadata["past_key_values.0.key"].Dimensions;
        KvHeads = past[1];
        HeadDim = past[3];
        Vocab = _session.OutputMetadata["logits"].Dimensions[2];
    }

    public int Layers { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    public int Vocab { get; }

    public InferenceSession Session => _session;

    /// <summary>An empty cache for <paramref name="batch"/> rows.</summary>
    public KvCache EmptyCache(int batch)
    {
        var keys = new DenseTensor<float>[Layers];
        var values = new DenseTensor<float>[Layers];
        for (int i = 0; i < Layers; i++)
        {
            keys[i] = new DenseTensor<float>([batch, KvHeads, 0, HeadDim]);
            values[i] = new DenseTensor<float>([batch, KvHeads, 0, HeadDim]);
        }

        return new KvCache(keys, values, 0);
    }

    /// <summary>
    /// One forward pass over <paramref name="ids"/> ([batch][seq]) after <paramref name="cache"/>; the attention
    /// mask covers past + new tokens. Returns logits [batch][seq][vocab] and the grown cache.
    /// </summary>
    public (float[][][] Logits, KvCache Cache) Forward(long[][] ids, long[][] attentionMask, long[][] positions, KvCache cache)
    {
        int batch = ids.Length, seq = ids[0].Length, total = attentionMask[0].Length;
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids.SelectMany(r => r).ToArray(), [batch, seq])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(attentionMask.SelectMany(r => r).ToArray(), [batch, total])),
            NamedOnnxValue.CreateFromTensor("position_ids", new DenseTensor<long>(positions.SelectMany(r => r).ToArray(), [batch, seq])),
        };
        for (int i = 0; i < Layers; i++)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor($"past_key_values.{i}.key", cache.Keys[i]));
            inputs.Add(NamedOnnxValue.CreateFromTensor($"past_key_values.{i}.value", cache.Values[i]));
        }

        using var results = _session.Run(inputs);
        var byName = results.ToDictionary(r => r.Name, r => r, StringComparer.Ordinal);
        var logitsTensor = byName["logits"].AsTensor<float>();
        Assert.Equal([batch, seq, Vocab], logitsTensor.Dimensions.ToArray());
        var logits = new float[batch][][];
        for (int b = 0; b < batch; b++)
        {
            logits[b] = new float[seq][];
            for (int s = 0; s < seq; s++)
            {
                var row = new float[Vocab];
                for (int v = 0; v < Vocab; v++)
                {
                    row[v] = logitsTensor[b, s, v];
                }

                logits[b][s] = row;
            }
        }

        var keys = new DenseTensor<float>[Layers];
        var values = new DenseTensor<float>[Layers];
        for (int i = 0; i < Layers; i++)
        {
            keys[i] = Copy(byName[$"present.{i}.key"].AsTensor<float>());
            values[i] = Copy(byName[$"present.{i}.value"].AsTensor<float>());
            Assert.Equal([batch, KvHeads, total, HeadDim], keys[i].Dimensions.ToArray());
            Assert.Equal([batch, KvHeads, total, HeadDim], values[i].Dimensions.ToArray());
        }

        return (logits, new KvCache(keys, values, total));
    }

    /// <summary>Greedy decoding of one unpadded row, stopping after an eos id or <paramref name="maxNewTokens"/>.</summary>
    public List<int> Greedy(IReadOnlyList<int> prompt, int maxNewTokens, IReadOnlySet<int> eos)
    {
        var generated = new List<int>();
        long[] ids = [.. prompt.Select(i => (long)i)];
        long[] positions = [.. Enumerable.Range(0, ids.Length).Select(i => (long)i)];
        KvCache cache = EmptyCache(1);
        for (int step = 0; step < maxNewTokens; step++)
        {
            long[] mask = [.. Enumerable.Repeat(1L, cache.Length + ids.Length)];
            (float[][][] logits, cache) = Forward([ids], [mask], [positions], cache);
            float[] last = logits[0][^1];
            int next = ArgMax(last);
            generated.Add(next);
            if (eos.Contains(next))
            {
                break;
            }

            ids = [next];
            positions = [cache.Length];
        }

        return generated;
    }

    public static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    public void Dispose() => _session.Dispose();

    private static DenseTensor<float> Copy(Tensor<float> tensor)
    {
        var copy = new DenseTensor<float>(tensor.Dimensions);
        int i = 0;
        foreach (float v in tensor)
        {
            copy.Buffer.Span[i++] = v;
        }

        return copy;
    }
}

/// <summary>Present key/value tensors of every layer, fed back as past; <see cref="Length"/> is the cached sequence length.</summary>
internal sealed record KvCache(DenseTensor<float>[] Keys, DenseTensor<float>[] Values, int Length);
