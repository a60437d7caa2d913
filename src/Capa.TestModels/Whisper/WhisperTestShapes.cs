namespace Capa.TestModels.Whisper;

/// <summary>The sizes <see cref="WhisperTestModelWriter"/> can generate.</summary>
public enum WhisperTestSize
{
    /// <summary>A few MB, for tests: 2 + 2 layers, d_model 64, 4 heads, 80 mel bins.</summary>
    Tiny,

    /// <summary>whisper-tiny's shapes (4 + 4 layers, d_model 384, 6 heads, vocab 51,865), for benchmarks.</summary>
    TinyRealShapes,

    /// <summary>whisper-base's shapes (6 + 6 layers, d_model 512, 8 heads, vocab 51,865), for benchmarks.</summary>
    BaseRealShapes,
}

/// <summary>The dimensions of a generated Whisper model.</summary>
internal sealed record WhisperTestShapes(
    int EncoderLayers,
    int DecoderLayers,
    int DModel,
    int Heads,
    int FfnDim,
    int MelBins,
    int VocabSize)
{
    public const int SourcePositions = 1500;
    public const int TargetPositions = 448;

    public int HeadDim => DModel / Heads;

    public static WhisperTestShapes Create(WhisperTestSize size, int tokenizerSize) => size switch
    {
        WhisperTestSize.Tiny => new(2, 2, 64, 4, 256, 80, tokenizerSize),
        WhisperTestSize.TinyRealShapes => new(4, 4, 384, 6, 1536, 80, Math.Max(51865, tokenizerSize)),
        WhisperTestSize.BaseRealShapes => new(6, 6, 512, 8, 2048, 80, Math.Max(51865, tokenizerSize)),
        _ => throw new ArgumentOutOfRangeException(nameof(size)),
    };
}
