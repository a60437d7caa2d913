using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// The <c>accuracy_level</c> that 4-bit matmuls (<c>MatMulNBits</c>) run with: the level each node of the file carries,
/// or one level for every node. ONNX Runtime's levels: 0 unset (fp32 compute), 1 fp32, 2 fp16, 3 bf16, 4 int8. Level 4
/// quantizes activations to int8 and is markedly faster on CPUs with VNNI; the file's level (often 0) matches what
/// transformers.js computes on the same file. Written as <c>file</c> or the level's number (<c>--q4-accuracy</c>,
/// <c>q4_accuracy</c>).
/// </summary>
/// <param name="Level">The level for every node, or <see langword="null"/> for the file's own levels.</param>
public readonly record struct Q4Accuracy(int? Level)
{
    /// <summary>The file's own levels: numbers as the file's exporter intended, and as other runtimes compute them.</summary>
    public static Q4Accuracy File => new(null);

    /// <summary>The default: level 4 (int8 compute), the faster choice.</summary>
    public static Q4Accuracy Default => new(4);

    /// <summary>The highest accuracy level ONNX Runtime defines.</summary>
    public const int MaxLevel = 4;

    /// <summary>What values are accepted, for error messages.</summary>
    public const string Expected = "'file' (the levels the model file carries) or a level from 0 to 4 (4: int8 compute, the default)";

    /// <summary>Reads <c>file</c> or a level from 0 to 4.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Q4Accuracy? accuracy)
    {
        accuracy = null;
        var trimmed = text?.Trim();
        if (string.Equals(trimmed, "file", StringComparison.OrdinalIgnoreCase))
        {
            accuracy = File;
            return true;
        }

        if (int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var level) && level is >= 0 and <= MaxLevel)
        {
            accuracy = new Q4Accuracy(level);
            return true;
        }

        return false;
    }

    /// <summary><c>file</c> or the level.</summary>
    public override string ToString() => Level?.ToString(CultureInfo.InvariantCulture) ?? "file";
}
