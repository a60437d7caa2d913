using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Capa.Media.Images;

namespace Capa.Engine.Vision.Tests.Qwen2VL;

/// <summary>What the Pillow + numpy reference computed for one image.</summary>
internal sealed record Qwen2VLReferenceOutput(int GridT, int GridH, int GridW, int ResizedWidth, int ResizedHeight, int ImageTokens, float[]? Pixels);

/// <summary>
/// A Pillow + numpy transcription of Python transformers' <c>Qwen2VLImageProcessor</c> (<c>smart_resize</c>, resize
/// through PIL, rescale, normalise, the temporal repeat, then the 9-axis reshape and transpose that orders the patch
/// rows) and of <c>Qwen2VLProcessor</c>'s token count, run with Debian's <c>/usr/bin/python3</c>.
/// </summary>
internal static class Qwen2VLReference
{
    private const string Script = """
        import json, math, sys
        import numpy as np
        from PIL import Image

        def smart_resize(height, width, factor, min_pixels, max_pixels):
            if max(height, width) / min(height, width) > 200:
                raise ValueError("aspect ratio")
            h_bar = round(height / factor) * factor
            w_bar = round(width / factor) * factor
            if h_bar * w_bar > max_pixels:
                beta = math.sqrt((height * width) / max_pixels)
                h_bar = max(factor, math.floor(height / beta / factor) * factor)
                w_bar = max(factor, math.floor(width / beta / factor) * factor)
            elif h_bar * w_bar < min_pixels:
                beta = math.sqrt(min_pixels / (height * width))
                h_bar = math.ceil(height * beta / factor) * factor
                w_bar = math.ceil(width * beta / factor) * factor
            return h_bar, w_bar

        src, w, h, config_path, out_dir, want_pixels = sys.argv[1:7]
        w, h = int(w), int(h)
        with open(config_path) as fh:
            cfg = json.load(fh)
        with open(src, "rb") as fh:
            image = np.frombuffer(fh.read(), dtype=np.uint8).reshape(h, w, 3)
        size = cfg.get("size", {})
        min_pixels = cfg.get("min_pixels", size.get("shortest_edge", 56 * 56))
        max_pixels = cfg.get("max_pixels", size.get("longest_edge", 28 * 28 * 1280))
        patch_size = cfg.get("patch_size", 14)
        temporal_patch_size = cfg.get("temporal_patch_size", 2)
        merge_size = cfg.get("merge_size", 2)
        resample = cfg.get("resample", 3)

        resized_height, resized_width = h, w
        if cfg.get("do_resize", True):
            resized_height, resized_width = smart_resize(h, w, patch_size * merge_size, min_pixels, max_pixels)
            image = np.array(Image.fromarray(image).resize((resized_width, resized_height), resample=resample))
        if cfg.get("do_rescale", True):
            image = (image.astype(np.float64) * cfg.get("rescale_factor", 1 / 255)).astype(np.float32)
        if cfg.get("do_normalize", True):
            if not np.issubdtype(image.dtype, np.floating):
                image = image.astype(np.float32)
            mean = np.array(cfg.get("image_mean", [0.48145466, 0.4578275, 0.40821073]), dtype=image.dtype)
            std = np.array(cfg.get("image_std", [0.26862954, 0.26130258, 0.27577711]), dtype=image.dtype)
            image = (image - mean) / std
        image = image.transpose(2, 0, 1)
        patches = np.array([image])
        if patches.shape[0] % temporal_patch_size != 0:
            repeats = np.repeat(patches[-1][np.newaxis], temporal_patch_size - (patches.shape[0] % temporal_patch_size), axis=0)
            patches = np.concatenate([patches, repeats], axis=0)
        channel = patches.shape[1]
        grid_t = patches.shape[0] // temporal_patch_size
        grid_h, grid_w = resized_height // patch_size, resized_width // patch_size
        patches = patches.reshape(grid_t, temporal_patch_size, channel, grid_h // merge_size, merge_size, patch_size,
                                  grid_w // merge_size, merge_size, patch_size)
        patches = patches.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
        flat = patches.reshape(grid_t * grid_h * grid_w, channel * temporal_patch_size * patch_size * patch_size)
        meta = {"grid": [grid_t, grid_h, grid_w], "resized": [resized_width, resized_height],
                "tokens": grid_t * grid_h * grid_w // (merge_size ** 2)}
        if want_pixels == "1":
            np.ascontiguousarray(flat, dtype=np.float32).astype("<f4").tofile(out_dir + "/pixels.f32")
        with open(out_dir + "/meta.json", "w") as fh:
            json.dump(meta, fh)
        """;

    private static readonly Lazy<string?> Missing = new(FindMissing);

    /// <summary>Why the reference cannot run here, or null when it can.</summary>
    public static string? MissingReason => Missing.Value;

    /// <summary>Runs the reference on one image with the given <c>preprocessor_config.json</c> text.</summary>
    public static Qwen2VLReferenceOutput Run(RgbImage image, string preprocessorJson, bool pixels)
    {
        var dir = Directory.CreateTempSubdirectory("capa-qwen2vl-");
        try
        {
            var script = Path.Combine(dir.FullName, "reference.py");
            var input = Path.Combine(dir.FullName, "in.rgb");
            var config = Path.Combine(dir.FullName, "preprocessor_config.json");
            File.WriteAllText(script, Script);
            File.WriteAllBytes(input, image.Pixels);
            File.WriteAllText(config, preprocessorJson);
            var (code, errors) = RunPython([script, input, Text(image.Width), Text(image.Height), config, dir.FullName, pixels ? "1" : "0"]);
            Assert.True(code == 0, $"The Pillow reference failed: {errors}");

            using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.FullName, "meta.json")));
            var root = meta.RootElement;
            var grid = root.GetProperty("grid");
            var resized = root.GetProperty("resized");
            float[]? values = null;
            if (pixels)
            {
                var bytes = File.ReadAllBytes(Path.Combine(dir.FullName, "pixels.f32"));
                values = new float[bytes.Length / 4];
                Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
            }

            return new Qwen2VLReferenceOutput(
                grid[0].GetInt32(), grid[1].GetInt32(), grid[2].GetInt32(), resized[0].GetInt32(), resized[1].GetInt32(),
                root.GetProperty("tokens").GetInt32(), values);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string? FindMissing()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            return "/usr/bin/python3 is not installed; the Qwen2-VL preprocessing reference needs Debian's python3-pil and python3-numpy.";
        }

        var (code, _) = RunPython(["-c", "import PIL.Image, numpy"]);
        return code == 0 ? null : "/usr/bin/python3 lacks PIL or numpy (python3-pil, python3-numpy); the Qwen2-VL preprocessing reference is skipped.";
    }

    private static (int Code, string Errors) RunPython(IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "python did not finish within 120 s");
        }

        return (process.ExitCode, errors.Result);
    }
}
