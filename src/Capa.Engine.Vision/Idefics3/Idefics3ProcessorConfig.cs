using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Capa.Media.Images;
using Capa.Models.Config;

namespace Capa.Engine.Vision.Idefics3;

/// <summary>
/// The settings of an Idefics3 / SmolVLM image processor: <c>preprocessor_config.json</c> (with the Python
/// processor's defaults for absent keys), <c>image_seq_len</c> from <c>processor_config.json</c>, and the image
/// marker tokens from <c>tokenizer_config.json</c>'s <c>extra_special_tokens</c>.
/// </summary>
public sealed record Idefics3ProcessorConfig
{
    /// <summary>Resize the longest edge to <see cref="LongestEdge"/> first (<c>do_resize</c>).</summary>
    public bool DoResize { get; init; } = true;

    /// <summary><c>size.longest_edge</c>; <see langword="null"/> when <c>size</c> gives <c>height</c>/<c>width</c> instead.</summary>
    public int? LongestEdge { get; init; } = 4 * 364;

    /// <summary><c>size.height</c> and <c>size.width</c>, used when <see cref="LongestEdge"/> is absent.</summary>
    public (int Height, int Width)? FixedSize { get; init; }

    /// <summary><c>resample</c> (Pillow's numbering; 1 = LANCZOS).</summary>
    public ResampleFilter Resample { get; init; } = ResampleFilter.Lanczos;

    /// <summary><c>do_image_splitting</c>.</summary>
    public bool DoImageSplitting { get; init; } = true;

    /// <summary><c>max_image_size.longest_edge</c>: the side of every tile and of the global image.</summary>
    public int MaxImageSize { get; init; } = 364;

    /// <summary><c>do_rescale</c>.</summary>
    public bool DoRescale { get; init; } = true;

    /// <summary><c>rescale_factor</c>, applied in double as numpy does before the cast to float32.</summary>
    public double RescaleFactor { get; init; } = 1.0 / 255;

    /// <summary><c>do_normalize</c>.</summary>
    public bool DoNormalize { get; init; } = true;

    /// <summary><c>image_mean</c> per channel.</summary>
    public IReadOnlyList<double> ImageMean { get; init; } = [0.5, 0.5, 0.5];

    /// <summary><c>image_std</c> per channel.</summary>
    public IReadOnlyList<double> ImageStd { get; init; } = [0.5, 0.5, 0.5];

    /// <summary><c>image_seq_len</c>: <c>&lt;image&gt;</c> tokens per tile (the vision encoder's output length per tile).</summary>
    public int ImageSeqLen { get; init; } = 169;

    /// <summary>The token around each image block (<c>fake_image_token</c>).</summary>
    public string FakeImageToken { get; init; } = "<fake_token_around_image>";

    /// <summary>The token the vision features replace (<c>image_token</c>).</summary>
    public string ImageToken { get; init; } = "<image>";

    /// <summary>The token that opens the global image (<c>global_image_token</c>).</summary>
    public string GlobalImageToken { get; init; } = "<global-img>";

    /// <summary>
    /// Reads the processor settings of a model folder. <c>image_seq_len</c> comes from <c>processor_config.json</c>;
    /// when a folder lacks it, it is derived from <c>config.json</c> the way the Python processor documents it
    /// (<c>(image_size / patch_size)² / scale_factor²</c>), because the Python fallback of 169 would not match the
    /// encoder's output and the features could not be placed.
    /// </summary>
    /// <exception cref="ModelFolderException">A file is missing or malformed, or a value is out of range.</exception>
    public static Idefics3ProcessorConfig FromFolder(string modelDirectory)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        var preprocessorPath = Path.Combine(modelDirectory, "preprocessor_config.json");
        if (!File.Exists(preprocessorPath))
        {
            throw new ModelFolderException($"'{modelDirectory}' has no preprocessor_config.json: an Idefics3/SmolVLM folder needs its image processor settings.");
        }

        try
        {
            var config = Parse(File.ReadAllText(preprocessorPath), preprocessorPath);
            var seqLen = ReadImageSeqLen(modelDirectory);
            config = config with { ImageSeqLen = seqLen };
            return WithTokenizerMarkers(config, Path.Combine(modelDirectory, "tokenizer_config.json"));
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or IOException)
        {
            throw new ModelFolderException($"The image processor settings of '{modelDirectory}' cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>Parses <c>preprocessor_config.json</c> text; absent keys keep the Python processor's defaults.</summary>
    /// <exception cref="ModelFolderException">A value is out of range.</exception>
    public static Idefics3ProcessorConfig Parse(string preprocessorJson, string source = "preprocessor_config.json")
    {
        using var doc = JsonDocument.Parse(preprocessorJson);
        var root = doc.RootElement;
        var config = new Idefics3ProcessorConfig();
        if (TryBool(root, "do_resize", out var b))
        {
            config = config with { DoResize = b };
        }

        if (root.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Object)
        {
            if (TryInt(size, "longest_edge", out var longest))
            {
                config = config with { LongestEdge = longest, FixedSize = null };
            }
            else if (TryInt(size, "height", out var h) && TryInt(size, "width", out var w))
            {
                config = config with { LongestEdge = null, FixedSize = (h, w) };
            }
            else
            {
                throw new ModelFolderException($"{source}: size needs longest_edge, or height and width.");
            }
        }

        if (TryInt(root, "resample", out var resample))
        {
            if (!PillowResampler.TryFilterFromPillowCode(resample, out var filter))
            {
                throw new ModelFolderException($"{source}: resample {resample} is not a Pillow filter (0 to 5).");
            }

            config = config with { Resample = filter };
        }

        if (TryBool(root, "do_image_splitting", out b))
        {
            config = config with { DoImageSplitting = b };
        }

        if (root.TryGetProperty("max_image_size", out var max) && max.ValueKind == JsonValueKind.Object)
        {
            if (!TryInt(max, "longest_edge", out var maxEdge))
            {
                throw new ModelFolderException($"{source}: max_image_size needs longest_edge.");
            }

            config = config with { MaxImageSize = maxEdge };
        }

        if (TryBool(root, "do_rescale", out b))
        {
            config = config with { DoRescale = b };
        }

        if (root.TryGetProperty("rescale_factor", out var factor) && factor.ValueKind == JsonValueKind.Number)
        {
            config = config with { RescaleFactor = factor.GetDouble() };
        }

        if (TryBool(root, "do_normalize", out b))
        {
            config = config with { DoNormalize = b };
        }

        if (TryChannels(root, "image_mean", out var mean))
        {
            config = config with { ImageMean = mean };
        }

        if (TryChannels(root, "image_std", out var std))
        {
            config = config with { ImageStd = std };
        }

        config.Validate(source);
        return config;
    }

    private void Validate(string source)
    {
        if (LongestEdge is <= 0 || FixedSize is { Height: <= 0 } or { Width: <= 0 } || MaxImageSize <= 0)
        {
            throw new ModelFolderException($"{source}: size and max_image_size must be positive.");
        }

        if (ImageMean.Count != 3 || ImageStd.Count != 3)
        {
            throw new ModelFolderException($"{source}: image_mean and image_std need one value or three (RGB).");
        }

        if (ImageStd.Any(s => s == 0))
        {
            throw new ModelFolderException($"{source}: image_std must not be zero.");
        }

        if (ImageSeqLen <= 0)
        {
            throw new ModelFolderException($"{source}: image_seq_len must be positive.");
        }
    }

    private static int ReadImageSeqLen(string directory)
    {
        var processorPath = Path.Combine(directory, "processor_config.json");
        if (File.Exists(processorPath))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(processorPath));
            if (TryInt(doc.RootElement, "image_seq_len", out var seqLen) && seqLen > 0)
            {
                return seqLen;
            }
        }

        var configPath = Path.Combine(directory, "config.json");
        if (File.Exists(configPath))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
            var root = doc.RootElement;
            if (root.TryGetProperty("vision_config", out var vision)
                && TryInt(vision, "image_size", out var imageSize)
                && TryInt(vision, "patch_size", out var patchSize)
                && patchSize > 0
                && root.TryGetProperty("scale_factor", out var scaleElement)
                && scaleElement.ValueKind == JsonValueKind.Number
                && scaleElement.GetInt32() is > 0 and var scale)
            {
                var patches = imageSize / patchSize;
                var seqLen = patches * patches / (scale * scale);
                if (seqLen > 0)
                {
                    return seqLen;
                }
            }
        }

        throw new ModelFolderException(
            $"'{directory}' gives no image_seq_len: processor_config.json lacks it and config.json has no vision_config image_size/patch_size with scale_factor.");
    }

    private static Idefics3ProcessorConfig WithTokenizerMarkers(Idefics3ProcessorConfig config, string tokenizerConfigPath)
    {
        if (!File.Exists(tokenizerConfigPath))
        {
            return config;
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(tokenizerConfigPath));
        if (!doc.RootElement.TryGetProperty("extra_special_tokens", out var extra) || extra.ValueKind != JsonValueKind.Object)
        {
            return config;
        }

        // The Python processor takes these from tokenizer attributes, which transformers fills from this object.
        return config with
        {
            FakeImageToken = TryString(extra, "fake_image_token", out var fake) ? fake : config.FakeImageToken,
            ImageToken = TryString(extra, "image_token", out var image) ? image : config.ImageToken,
            GlobalImageToken = TryString(extra, "global_image_token", out var global) ? global : config.GlobalImageToken,
        };
    }

    private static bool TryBool(JsonElement element, string name, out bool value)
    {
        value = false;
        if (!element.TryGetProperty(name, out var property) || property.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return false;
        }

        value = property.GetBoolean();
        return true;
    }

    private static bool TryInt(JsonElement element, string name, out int value)
    {
        value = 0;
        return element.TryGetProperty(name, out var property) && property.ValueKind == JsonValueKind.Number && property.TryGetInt32(out value);
    }

    private static bool TryString(JsonElement element, string name, [NotNullWhen(true)] out string? value)
    {
        value = element.TryGetProperty(name, out var property) && property.ValueKind == JsonValueKind.String ? property.GetString() : null;
        return !string.IsNullOrEmpty(value);
    }

    private static bool TryChannels(JsonElement element, string name, [NotNullWhen(true)] out IReadOnlyList<double>? values)
    {
        values = null;
        if (!element.TryGetProperty(name, out var property))
        {
            return false;
        }

        if (property.ValueKind == JsonValueKind.Number)
        {
            var v = property.GetDouble();
            values = [v, v, v];
            return true;
        }

        if (property.ValueKind == JsonValueKind.Array)
        {
            var list = property.EnumerateArray().Select(e => e.GetDouble()).ToArray();
            values = list.Length == 1 ? [list[0], list[0], list[0]] : list;
            return true;
        }

        return false;
    }
}
