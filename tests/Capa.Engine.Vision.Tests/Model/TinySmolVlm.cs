using System.Globalization;
using System.Text;
using Capa.TestModels.Vision;

namespace Capa.Engine.Vision.Tests.Model;

/// <summary>A random-weight SmolVLM folder written once per test class, and helpers to feed it.</summary>
public sealed class TinySmolVlm : IDisposable
{
    public const int TileSize = 32;
    public const int ImageSeqLen = 16;

    private readonly Lazy<LocalVisionModel> _model;

    public TinySmolVlm()
    {
        Directory = Path.Combine(Path.GetTempPath(), "capa-smolvlm-" + Guid.NewGuid().ToString("N"), "smolvlm-tiny");
        SmolVlmTestModelWriter.Write(new SmolVlmTestModelSpec { Seed = 3 }, Directory);
        _model = new(() => LocalVisionModel.Load(Directory, new LocalVisionModelOptions { Decoder = new() { IntraOpThreads = 1 } }));
    }

    public string Directory { get; }

    public LocalVisionModel Model => _model.Value;

    /// <summary>A fixed pixel tensor [tiles, 3, 32, 32] in [-1, 1] (normalised values), different per <paramref name="salt"/>.</summary>
    public static float[] Pixels(int tiles, int salt = 0)
    {
        var values = new float[tiles * 3 * TileSize * TileSize];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Sin((i * 0.731f) + (salt * 1.37f)) * MathF.Cos(i * 0.0173f);
        }

        return values;
    }

    public static VisionImageInput Image(int tiles, int salt = 0, string? cacheKey = null)
    {
        var mask = new bool[tiles * TileSize * TileSize];
        Array.Fill(mask, true);
        return new VisionImageInput(Pixels(tiles, salt), mask, tiles, TileSize, cacheKey);
    }

    /// <summary>
    /// Idefics3's prompt expansion of one image (as processing_idefics3 writes it): per tile, row by row,
    /// <c>&lt;fake_token_around_image&gt;&lt;row_r_col_c&gt;</c> + image_seq_len × <c>&lt;image&gt;</c>, a newline after each
    /// row; then the global image. Unsplit (rows = cols = 0): the global image alone.
    /// </summary>
    public static string Expansion(int rows, int cols)
    {
        var images = string.Concat(Enumerable.Repeat("<image>", ImageSeqLen));
        var global = "<fake_token_around_image><global-img>" + images + "<fake_token_around_image>";
        if (rows == 0 && cols == 0)
        {
            return global;
        }

        var text = new StringBuilder();
        for (int r = 1; r <= rows; r++)
        {
            for (int c = 1; c <= cols; c++)
            {
                text.Append(CultureInfo.InvariantCulture, $"<fake_token_around_image><row_{r}_col_{c}>").Append(images);
            }

            text.Append('\n');
        }

        return text.Append('\n').Append(global).ToString();
    }

    /// <summary>One user message with an image part then a text part, as the chat template expects them.</summary>
    public static Dictionary<string, object?> UserTurn(string question) => new()
    {
        ["messages"] = new List<object?>
        {
            new Dictionary<string, object?>
            {
                ["role"] = "user",
                ["content"] = new List<object?>
                {
                    new Dictionary<string, object?> { ["type"] = "image" },
                    new Dictionary<string, object?> { ["type"] = "text", ["text"] = question },
                },
            },
        },
    };

    public IReadOnlyList<int> Prompt(string question, int rows, int cols) =>
        Model.ExpandImages(Model.Tokenize(Model.RenderPrompt(UserTurn(question))), [Expansion(rows, cols)]);

    public void Dispose()
    {
        if (_model.IsValueCreated)
        {
            _model.Value.Dispose();
        }

        try
        {
            System.IO.Directory.Delete(Path.GetDirectoryName(Directory)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
