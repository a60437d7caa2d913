using System.Text.Json;
using Capa.Media.Images;
using Capa.Models.Config;

namespace Capa.Engine.Vision.Qwen2VL;

/// <summary>
/// The settings of a Qwen2-VL / Qwen2.5-VL image processor from <c>preprocessor_config.json</c>, with Python
/// transformers' <c>Qwen2VLImageProcessor</c> defaults for absent keys: pixel budget (<c>min_pixels</c> /
/// <c>max_pixels</c>, or <c>size.shortest_edge</c> / <c>size.longest_edge</c> as newer exports write them), patch
/// geometry, bicubic resampling and CLIP mean/std.
/// </summary>
public sealed record Qwen2VLProcessorConfig
{
    /// <summary>CLIP's per-channel mean (<c>OPENAI_CLIP_MEAN</c>).</summary>
    public static IReadOnlyList<double> ClipMean { get; } = [0.48145466, 0.4578275, 0.40821073];

    /// <summary>CLIP's per-channel standard deviation (<c>OPENAI_CLIP_STD</c>).</summary>
    public static IReadOnlyList<double> ClipStd { get; } = [0.26862954, 0.26130258, 0.27577711];

    /// <summary><c>do_resize</c>: resize to the smart size (without it the image must already be a multiple of the factor).</summary>
    public bool DoResize { get; init; } = true;

    /// <summary><c>min_pixels</c>: the smallest pixel count after resizing.</summary>
    public long MinPixels { get; init; } = 56 * 56;

    /// <summary><c>max_pixels</c>: the largest pixel count after resizing.</summary>
    public long MaxPixels { get; init; } = 28 * 28 * 1280;

    /// <summary><c>patch_size</c>: the side of one vision patch.</summary>
    public int PatchSize { get; init; } = 14;

    /// <summary><c>temporal_patch_size</c>: frames per patch; a still image is repeated to fill them.</summary>
    public int TemporalPatchSize { get; init; } = 2;

    /// <summary><c>merge_size</c>: patches merged per side into one token.</summary>
    public int MergeSize { get; init; } = 2;

    /// <summary><c>resample</c> (Pillow's numbering; 3 = BICUBIC).</summary>
    public ResampleFilter Resample { get; init; } = ResampleFilter.Bicubic;

    /// <summary><c>do_rescale</c>.</summary>
    public bool DoRescale { get; init; } = true;

    /// <summary><c>rescale_factor</c>, applied in double as numpy does before the cast to float32.</summary>
    public double RescaleFactor { get; init; } = 1.0 / 255;

    /// <summary><c>do_normalize</c>.</summary>
    public bool DoNormalize { get; init; } = true;

    /// <summary><c>image_mean</c> per channel.</summary>
    public IReadOnlyList<double> ImageMean { get; init; } = ClipMean;

    /// <summary><c>image_std</c> per channel.</summary>
    public IReadOnlyList<double> ImageStd { get; init; } = ClipStd;

    /// <summary>The side lengths are multiples of this: <c>patch_size × merge_size</c> (28).</summary>
    public int Factor => PatchSize * MergeSize;

    /// <summary>One row of pixel values: <c>3 × temporal_patch_size × patch_size²</c> (1176).</summary>
    public int PatchWidth => 3 * TemporalPatchSize * PatchSize * PatchSize;

    /// <summary>Reads <c>preprocessor_config.json</c> from a model folder.</summary>
    /// <exception cref="ModelFolderException">The file is missing or malformed, or a value is out of range.</exception>
    public static Qwen2VLProcessorConfig FromFolder(string modelDirectory)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        var path = Path.Combine(modelDirectory, "preprocessor_config.json");
        if (!File.Exists(path))
        {
            throw new ModelFolderException($"'{modelDirectory}' has no preprocessor_config.json: a Qwen2-VL folder needs its image processor settings.");
        }

        try
        {
            return Parse(File.ReadAllText(path), path);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or IOException)
        {
            throw new ModelFolderException($"The image processor settings of '{modelDirectory}' cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>Parses <c>preprocessor_config.json</c> text; absent keys keep the Python processor's defaults.</summary>
    /// <exception cref="ModelFolderException">A value is out of range.</exception>
    public static Qwen2VLProcessorConfig Parse(string preprocessorJson, string source = "preprocessor_config.json")
    {
        using var doc = JsonDocument.Parse(preprocessorJson);
        var root = doc.RootElement;
        var config = new Qwen2VLProcessorConfig();

        // Python reads size first and lets explicit min_pixels / max_pixels override it.
        if (root.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Object)
        {
            if (TryLong(size, "shortest_edge", out var min))
            {
                config = config with { MinPixels = min };
            }

            if (TryLong(size, "longest_edge", out var max))
            {
                config = config with { MaxPixels = max };
            }
        }

        if (TryLong(root, "min_pixels", out var minPixels))
        {
            config = config with { MinPixels = minPixels };
        }

        if (TryLong(root, "max_pixels", out var maxPixels))
        {
            config = config with { MaxPixels = maxPixels };
        }

        if (TryLong(root, "patch_size", out var patch))
        {
            config = config with { PatchSize = (int)Math.Clamp(patch, 0, 4096) };
        }

        if (TryLong(root, "temporal_patch_size", out var temporal))
        {
            config = config with { TemporalPatchSize = (int)Math.Clamp(temporal, 0, 64) };
        }

        if (TryLong(root, "merge_size", out var merge))
        {
            config = config with { MergeSize = (int)Math.Clamp(merge, 0, 64) };
        }

        if (TryLong(root, "resample", out var resample))
        {
            if (!PillowResampler.TryFilterFromPillowCode((int)Math.Clamp(resample, -1, 99), out var filter))
            {
                throw new ModelFolderException($"{source}: resample {resample} is not a Pillow filter (0 to 5).");
            }

            config = config with { Resample = filter };
        }

        config = config with
        {
            DoResize = Bool(root, "do_resize") ?? config.DoResize,
            DoRescale = Bool(root, "do_rescale") ?? config.DoRescale,
            DoNormalize = Bool(root, "do_normalize") ?? config.DoNormalize,
            RescaleFactor = root.TryGetProperty("rescale_factor", out var f) && f.ValueKind == JsonValueKind.Number ? f.GetDouble() : config.RescaleFactor,
            ImageMean = Channels(root, "image_mean") ?? config.ImageMean,
            ImageStd = Channels(root, "image_std") ?? config.ImageStd,
        };
        config.Validate(source);
        return config;
    }

    private void Validate(string source)
    {
        if (PatchSize <= 0 || TemporalPatchSize <= 0 || MergeSize <= 0)
        {
            throw new ModelFolderException($"{source}: patch_size, temporal_patch_size and merge_size must be positive.");
        }

        if (MinPixels <= 0 || MaxPixels < MinPixels || MaxPixels < (long)Factor * Factor)
        {
            throw new ModelFolderException(
                $"{source}: the pixel budget must satisfy 0 < min_pixels <= max_pixels and hold at least one {Factor}×{Factor} block (min_pixels {MinPixels}, max_pixels {MaxPixels}).");
        }

        if (ImageMean.Count != 3 || ImageStd.Count != 3)
        {
            throw new ModelFolderException($"{source}: image_mean and image_std need one value or three (RGB).");
        }

        if (ImageStd.Any(s => s == 0))
        {
            throw new ModelFolderException($"{source}: image_std must not be zero.");
        }
    }

    private static bool TryLong(JsonElement element, string name, out long value)
    {
        value = 0;
        return element.TryGetProperty(name, out var property) && property.ValueKind == JsonValueKind.Number && property.TryGetInt64(out value);
    }

    private static bool? Bool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var property) && property.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? property.GetBoolean()
            : null;

    private static double[]? Channels(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var property))
        {
            return null;
        }

        if (property.ValueKind == JsonValueKind.Number)
        {
            var v = property.GetDouble();
            return [v, v, v];
        }

        if (property.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var list = property.EnumerateArray().Select(e => e.GetDouble()).ToArray();
        return list.Length == 1 ? [list[0], list[0], list[0]] : list;
    }
}
