namespace Capa.TestModels.Vision;

/// <summary>The vision tower and connector dimensions of a generated SmolVLM (Idefics3) model.</summary>
internal sealed record SmolVlmTestShapes
{
    /// <summary>The text decoder (a Llama, as SmolVLM's SmolLM2).</summary>
    public required TestModelShapes Text { get; init; }

    /// <summary>Side of one tile in pixels (<c>vision_config.image_size</c> = <c>max_image_size.longest_edge</c>).</summary>
    public required int ImageSize { get; init; }

    /// <summary>Side of a patch in pixels.</summary>
    public required int PatchSize { get; init; }

    /// <summary>Vision hidden width.</summary>
    public required int VisionHidden { get; init; }

    /// <summary>Vision attention heads.</summary>
    public required int VisionHeads { get; init; }

    /// <summary>Vision encoder layers.</summary>
    public required int VisionLayers { get; init; }

    /// <summary>Vision MLP width.</summary>
    public required int VisionIntermediate { get; init; }

    /// <summary>The connector's pixel-shuffle factor (<c>scale_factor</c>).</summary>
    public required int ScaleFactor { get; init; }

    /// <summary>Images are resized so that their longest edge is this (<c>size.longest_edge</c>) before tiling.</summary>
    public required int LongestEdge { get; init; }

    /// <summary>Patches per tile side.</summary>
    public int PatchesPerSide => ImageSize / PatchSize;

    /// <summary>Patches per tile.</summary>
    public int Patches => PatchesPerSide * PatchesPerSide;

    /// <summary>Image tokens per tile: patches merged <see cref="ScaleFactor"/>² at a time (<c>image_seq_len</c>).</summary>
    public int ImageSeqLen => Patches / (ScaleFactor * ScaleFactor);

    /// <summary>Width of a pixel-shuffled row, the projection's input.</summary>
    public int ShuffledWidth => VisionHidden * ScaleFactor * ScaleFactor;

    /// <summary>
    /// Tiny: 32-px tiles of 4-px patches (64 patches), pixel shuffle by 2 → 16 image tokens per tile; images resized to a
    /// longest edge of 64, so a large image is 2×2 tiles plus the global one. Text: the tiny Llama decoder.
    /// </summary>
    public static SmolVlmTestShapes Tiny(int tokenizerSize) => new()
    {
        Text = TestModelShapes.Create(TestModelArch.Llama, TestModelSize.Tiny, tokenizerSize) with { RopeTheta = 100_000d },
        ImageSize = 32,
        PatchSize = 4,
        VisionHidden = 32,
        VisionHeads = 2,
        VisionLayers = 2,
        VisionIntermediate = 64,
        ScaleFactor = 2,
        LongestEdge = 64,
    };

    /// <summary>
    /// SmolVLM-256M-Instruct's shapes: 512-px tiles of 16-px patches through a 12-layer SigLIP tower (hidden 768, 12
    /// heads, MLP 3072), pixel shuffle by 4 → 64 image tokens per tile, images resized to a longest edge of 2048 (a
    /// 512×512 image is 4×4 tiles plus the global one); text: SmolLM2-135M (30 layers, hidden 576, 9 heads, 3 KV heads,
    /// head_dim 64, MLP 1536, 49,280 embedding rows, tied, rope theta 100,000, 8,192 positions).
    /// </summary>
    public static SmolVlmTestShapes RealShapes256M(int tokenizerSize)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tokenizerSize, 49_280);
        return new()
        {
            Text = new TestModelShapes
            {
                Arch = TestModelArch.Llama, Layers = 30, Hidden = 576, Heads = 9, KvHeads = 3, HeadDim = 64, Intermediate = 1536,
                VocabSize = 49_280, MaxPositions = 8192, RopeTheta = 100_000d, RmsEps = 1e-5f, TiedEmbeddings = true,
            },
            ImageSize = 512,
            PatchSize = 16,
            VisionHidden = 768,
            VisionHeads = 12,
            VisionLayers = 12,
            VisionIntermediate = 3072,
            ScaleFactor = 4,
            LongestEdge = 2048,
        };
    }
}
