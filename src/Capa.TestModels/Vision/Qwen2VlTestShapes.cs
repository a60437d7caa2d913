namespace Capa.TestModels.Vision;

/// <summary>The vision and processor dimensions of a generated Qwen2-VL model.</summary>
internal sealed record Qwen2VlTestShapes
{
    /// <summary>The text decoder (a Qwen2 with multimodal RoPE).</summary>
    public required TestModelShapes Text { get; init; }

    /// <summary>Side of a patch in pixels (the real 14, so the rows are the real 1176 wide).</summary>
    public int PatchSize { get; init; } = 14;

    /// <summary>Frames per patch.</summary>
    public int TemporalPatchSize { get; init; } = 2;

    /// <summary>Patches merged per side.</summary>
    public int MergeSize { get; init; } = 2;

    /// <summary>Vision hidden width.</summary>
    public required int VisionHidden { get; init; }

    /// <summary><c>min_pixels</c>.</summary>
    public required long MinPixels { get; init; }

    /// <summary><c>max_pixels</c>.</summary>
    public required long MaxPixels { get; init; }

    /// <summary><c>rope_scaling.mrope_section</c>: frequency bands of the temporal, height and width rows (sum: head_dim / 2).</summary>
    public required int[] MropeSection { get; init; }

    /// <summary>Values per patch row: 3 × temporal × patch².</summary>
    public int PatchWidth => 3 * TemporalPatchSize * PatchSize * PatchSize;

    /// <summary>
    /// Tiny: the tiny Qwen2 decoder (head_dim 16, bands 2 + 3 + 3), a 32-wide vision stand-in, and a budget of 56 × 56
    /// to 64 merged tokens (50,176 pixels), so prompts stay short.
    /// </summary>
    public static Qwen2VlTestShapes Tiny(int tokenizerSize) => new()
    {
        Text = TestModelShapes.Create(TestModelArch.Qwen2, TestModelSize.Tiny, tokenizerSize),
        VisionHidden = 32,
        MinPixels = 56 * 56,
        MaxPixels = 28 * 28 * 64,
        MropeSection = [2, 3, 3],
    };
}
