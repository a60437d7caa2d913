namespace Capa.TestModels;

/// <summary>The dimensions and hyper-parameters of a generated model.</summary>
internal sealed record TestModelShapes
{
    public required TestModelArch Arch { get; init; }
    public required int Layers { get; init; }
    public required int Hidden { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int Intermediate { get; init; }
    public required int VocabSize { get; init; }
    public required int MaxPositions { get; init; }
    public required double RopeTheta { get; init; }
    public required float RmsEps { get; init; }
    public required bool TiedEmbeddings { get; init; }

    public bool QkvBias => Arch == TestModelArch.Qwen2;
    public bool FusedProjections => Arch == TestModelArch.Phi3;
    public bool IsGemma => Arch == TestModelArch.Gemma;

    /// <summary>Gemma 2's <c>attn_logit_softcapping</c>.</summary>
    public float AttentionSoftcap => 50f;

    /// <summary>Gemma 2's <c>final_logit_softcapping</c>.</summary>
    public float FinalSoftcap => 30f;

    /// <summary>Gemma 2's <c>query_pre_attn_scalar</c>: the attention scale is its inverse square root.</summary>
    public int QueryPreAttnScalar => HeadDim;

    public static TestModelShapes Create(TestModelArch arch, TestModelSize size, int tokenizerSize)
    {
        // Tiny models have exactly one embedding row per token (as Llama 3.2 and SmolLM2 do), so greedy output
        // compared with transformers.js never lands on an id an engine masks. 0.5b keeps Qwen2.5-0.5B's padded
        // 151,936 rows (its tokenizer defines fewer), which an engine must mask.
        int tinyVocab = tokenizerSize;
        (double theta, float eps, bool tied) = arch switch
        {
            TestModelArch.Qwen2 => (1_000_000d, 1e-6f, true),
            TestModelArch.Llama => (500_000d, 1e-5f, false),
            TestModelArch.Phi3 => (10_000d, 1e-5f, false),
            TestModelArch.Gemma => (10_000d, 1e-6f, true),
            _ => throw new ArgumentOutOfRangeException(nameof(arch)),
        };
        return size switch
        {
            TestModelSize.Tiny => new TestModelShapes
            {
                Arch = arch, Layers = 2, Hidden = 64, Heads = 4, KvHeads = 2, HeadDim = 16, Intermediate = 192,
                VocabSize = tinyVocab, MaxPositions = 2048, RopeTheta = theta, RmsEps = eps, TiedEmbeddings = tied,
            },
            TestModelSize.HalfB => new TestModelShapes
            {
                Arch = arch, Layers = 24, Hidden = 896, Heads = 14, KvHeads = 2, HeadDim = 64, Intermediate = 4864,
                VocabSize = 151_936, MaxPositions = 32_768, RopeTheta = theta, RmsEps = eps, TiedEmbeddings = tied,
            },
            _ => throw new ArgumentOutOfRangeException(nameof(size)),
        };
    }
}
