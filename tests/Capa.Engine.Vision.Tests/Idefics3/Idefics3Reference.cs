using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Capa.Media.Images;

namespace Capa.Engine.Vision.Tests.Idefics3;

/// <summary>What the Pillow + numpy reference computed for one image.</summary>
internal sealed record ReferenceOutput(int Rows, int Cols, int Tiles, int TileSize, int ResizedWidth, int ResizedHeight, string Prompt, float[]? Pixels, byte[]? Mask);

/// <summary>
/// A Pillow + numpy transcription of Python transformers' SmolVLM / Idefics3 image processor and prompt expansion,
/// step by step (<c>image_processing_smolvlm.py preprocess</c>, <c>processing_smolvlm.py get_image_prompt_string</c>),
/// run with Debian's <c>/usr/bin/python3</c>. It works on numpy arrays and PIL images as the reference does, so it
/// checks Capa's arithmetic (sizes, crops, rescale, normalise, padding, prompt) as well as the resampling.
/// </summary>
internal static class Idefics3Reference
{
    private const string Script = """
        import json, math, sys
        import numpy as np
        from PIL import Image

        MAX_IMAGE_SIZE = 4096

        def rescale_to_max_len(height, width, min_len=1, max_len=None):
            max_len = max(height, width) if max_len is None else max_len
            aspect_ratio = width / height
            if width >= height:
                width = max_len
                height = int(width / aspect_ratio)
                if height % 2 != 0:
                    height += 1
            elif height > width:
                height = max_len
                width = int(height * aspect_ratio)
                if width % 2 != 0:
                    width += 1
            return max(height, min_len), max(width, min_len)

        def scale_below_upper_bound(height, width, max_len=None):
            max_len = max(height, width) if max_len is None else max_len
            aspect_ratio = width / height
            if width >= height and width > max_len:
                width = max_len
                height = int(width / aspect_ratio)
            elif height > width and height > max_len:
                height = max_len
                width = int(height * aspect_ratio)
            return max(height, 1), max(width, 1)

        def resize(image, size, resample):
            # size is (height, width); the reference goes numpy -> PIL -> resize -> numpy.
            if "longest_edge" in size:
                h, w = image.shape[:2]
                h, w = rescale_to_max_len(h, w, max_len=size["longest_edge"])
                h, w = scale_below_upper_bound(h, w, max_len=MAX_IMAGE_SIZE)
            else:
                h, w = size["height"], size["width"]
            pil = Image.fromarray(image.astype(np.uint8))
            return np.array(pil.resize((w, h), resample=resample))

        def resize_for_vision_encoder(image, max_size, resample):
            height, width = image.shape[:2]
            aspect_ratio = width / height
            if width >= height:
                width = math.ceil(width / max_size) * max_size
                height = int(width / aspect_ratio)
                height = math.ceil(height / max_size) * max_size
            elif height > width:
                height = math.ceil(height / max_size) * max_size
                width = int(height * aspect_ratio)
                width = math.ceil(width / max_size) * max_size
            return resize(image, {"height": height, "width": width}, resample)

        def split_image(image, max_image_size, resample):
            height, width = image.shape[:2]
            max_height = max_width = max_image_size["longest_edge"]
            frames = []
            if height > max_height or width > max_width:
                num_splits_h = math.ceil(height / max_height)
                num_splits_w = math.ceil(width / max_width)
                optimal_height = math.ceil(height / num_splits_h)
                optimal_width = math.ceil(width / num_splits_w)
                for r in range(num_splits_h):
                    for c in range(num_splits_w):
                        start_x = c * optimal_width
                        start_y = r * optimal_height
                        end_x = min(start_x + optimal_width, width)
                        end_y = min(start_y + optimal_height, height)
                        frames.append(image[start_y:end_y, start_x:end_x, :])
                if height != max_height or width != max_width:
                    image = resize(image, {"height": max_height, "width": max_width}, resample)
            else:
                num_splits_h, num_splits_w = 0, 0
            frames.append(image)
            return frames, num_splits_h, num_splits_w

        def prompt(rows, cols, seq_len, fake="<fake_token_around_image>", token="<image>", glob="<global-img>"):
            if rows == 0 and cols == 0:
                return f"{fake}{glob}" + token * seq_len + f"{fake}"
            text = ""
            for n_h in range(rows):
                for n_w in range(cols):
                    text += f"{fake}" + f"<row_{n_h + 1}_col_{n_w + 1}>" + token * seq_len
                text += "\n"
            return text + f"\n{fake}{glob}" + token * seq_len + f"{fake}"

        src, w, h, config_path, seq_len, split, out_dir, want_pixels = sys.argv[1:9]
        w, h, seq_len = int(w), int(h), int(seq_len)
        with open(config_path) as fh:
            cfg = json.load(fh)
        with open(src, "rb") as fh:
            image = np.frombuffer(fh.read(), dtype=np.uint8).reshape(h, w, 3)
        resample = cfg.get("resample", 1)
        size = cfg.get("size", {"longest_edge": 4 * 364})
        max_image_size = cfg.get("max_image_size", {"longest_edge": 364})
        splitting = cfg.get("do_image_splitting", True) and split == "1"

        if cfg.get("do_resize", True):
            image = resize(image, size, resample)
        resized_h, resized_w = image.shape[:2]
        if splitting:
            image = resize_for_vision_encoder(image, max_image_size["longest_edge"], resample)
            frames, rows, cols = split_image(image, max_image_size, resample)
        else:
            side = max_image_size["longest_edge"]
            frames, rows, cols = [resize(image, {"height": side, "width": side}, resample)], 0, 0

        meta = {"rows": rows, "cols": cols, "tiles": len(frames), "resized": [resized_w, resized_h],
                "prompt": prompt(rows, cols, seq_len)}
        if want_pixels == "1":
            out = []
            for frame in frames:
                if cfg.get("do_rescale", True):
                    frame = (frame.astype(np.float64) * cfg.get("rescale_factor", 1 / 255)).astype(np.float32)
                if cfg.get("do_normalize", True):
                    if not np.issubdtype(frame.dtype, np.floating):
                        frame = frame.astype(np.float32)
                    mean = cfg.get("image_mean", [0.5, 0.5, 0.5])
                    std = cfg.get("image_std", [0.5, 0.5, 0.5])
                    mean = np.array(mean if isinstance(mean, list) else [mean] * 3, dtype=frame.dtype)
                    std = np.array(std if isinstance(std, list) else [std] * 3, dtype=frame.dtype)
                    frame = (frame - mean) / std
                out.append(frame)
            pad_h = max(f.shape[0] for f in out)
            pad_w = max(f.shape[1] for f in out)
            pixels = np.zeros((len(out), pad_h, pad_w, 3), dtype=np.float32)
            mask = np.zeros((len(out), pad_h, pad_w), dtype=np.int64)
            for i, f in enumerate(out):
                pixels[i, : f.shape[0], : f.shape[1], :] = f
                mask[i, : f.shape[0], : f.shape[1]] = 1
            pixels = np.ascontiguousarray(pixels.transpose(0, 3, 1, 2))
            assert pixels.dtype == np.float32
            pixels.astype("<f4").tofile(out_dir + "/pixels.f32")
            mask.astype(np.uint8).tofile(out_dir + "/mask.u8")
            meta["tile_size"] = pad_h
            meta["tile_width"] = pad_w
        with open(out_dir + "/meta.json", "w") as fh:
            json.dump(meta, fh)
        """;

    private static readonly Lazy<string?> Missing = new(FindMissing);

    /// <summary>Why the reference cannot run here, or null when it can.</summary>
    public static string? MissingReason => Missing.Value;

    /// <summary>Runs the reference on one image with the given <c>preprocessor_config.json</c> text.</summary>
    public static ReferenceOutput Run(RgbImage image, string preprocessorJson, int imageSeqLen, bool split, bool pixels)
    {
        var dir = Directory.CreateTempSubdirectory("capa-idefics3-");
        try
        {
            var script = Path.Combine(dir.FullName, "reference.py");
            var input = Path.Combine(dir.FullName, "in.rgb");
            var config = Path.Combine(dir.FullName, "preprocessor_config.json");
            File.WriteAllText(script, Script);
            File.WriteAllBytes(input, image.Pixels);
            File.WriteAllText(config, preprocessorJson);
            var (code, errors) = RunPython(
            [
                script, input, Text(image.Width), Text(image.Height), config, Text(imageSeqLen), split ? "1" : "0", dir.FullName, pixels ? "1" : "0",
            ]);
            Assert.True(code == 0, $"The Pillow reference failed: {errors}");

            using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.FullName, "meta.json")));
            var root = meta.RootElement;
            var resized = root.GetProperty("resized");
            float[]? values = null;
            byte[]? mask = null;
            var tileSize = 0;
            if (pixels)
            {
                var bytes = File.ReadAllBytes(Path.Combine(dir.FullName, "pixels.f32"));
                values = new float[bytes.Length / 4];
                Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
                mask = File.ReadAllBytes(Path.Combine(dir.FullName, "mask.u8"));
                tileSize = root.GetProperty("tile_size").GetInt32();
                Assert.Equal(tileSize, root.GetProperty("tile_width").GetInt32());
            }

            return new ReferenceOutput(
                root.GetProperty("rows").GetInt32(),
                root.GetProperty("cols").GetInt32(),
                root.GetProperty("tiles").GetInt32(),
                tileSize,
                resized[0].GetInt32(),
                resized[1].GetInt32(),
                root.GetProperty("prompt").GetString()!,
                values,
                mask);
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
            return "/usr/bin/python3 is not installed; the SmolVLM preprocessing reference needs Debian's python3-pil and python3-numpy.";
        }

        var (code, _) = RunPython(["-c", "import PIL.Image, numpy"]);
        return code == 0 ? null : "/usr/bin/python3 lacks PIL or numpy (python3-pil, python3-numpy); the SmolVLM preprocessing reference is skipped.";
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
