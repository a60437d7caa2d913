using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Images;

/// <summary>
/// A background-removal (matting) model in the layout briaai/RMBG-1.4 publishes for ONNX Runtime and transformers.js:
/// <c>onnx/model.onnx</c> (or <c>model.onnx</c>) beside <c>config.json</c> and <c>preprocessor_config.json</c>. The image
/// is resized to the model's input size (fixed in the graph, else the processor's <c>size</c>), rescaled and normalised with
/// the processor's mean and std; the one-channel output becomes the alpha channel, passed through a sigmoid when its values
/// leave [0, 1] (as transformers.js' <c>background-removal</c> pipeline decides) and resized back to the image.
/// </summary>
public sealed class BackgroundRemover : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _input;
    private readonly string _output;
    private readonly NodeMetadata _inputMeta;
    private readonly int _width;
    private readonly int _height;
    private readonly float[] _mean;
    private readonly float[] _std;
    private readonly float _rescale;

    private BackgroundRemover(string directory, InferenceSession session, JsonElement? processor)
    {
        Directory = directory;
        _session = session;
        _input = session.InputMetadata.Keys.First();
        _output = session.OutputMetadata.Keys.First();
        _inputMeta = session.InputMetadata[_input];
        long[] dims = [.. _inputMeta.Dimensions.Select(d => (long)d)];
        if (dims.Length != 4 || (dims[1] > 0 && dims[1] != 3))
        {
            throw new DiffusionModelException($"'{directory}': the background-removal model's input '{_input}' is [{string.Join(", ", dims)}]; [1, 3, height, width] was expected.");
        }

        (int configWidth, int configHeight) = Size(processor);
        _width = dims[3] > 0 ? (int)dims[3] : configWidth;
        _height = dims[2] > 0 ? (int)dims[2] : configHeight;
        bool normalize = Bool(processor, "do_normalize") ?? true;
        _mean = normalize ? Triple(processor, "image_mean", 0.5f) : [0, 0, 0];
        _std = normalize ? Triple(processor, "image_std", 1f) : [1, 1, 1];
        _rescale = (Bool(processor, "do_rescale") ?? true) ? (float)(Number(processor, "rescale_factor") ?? (1 / 255.0)) : 1f;
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>The side lengths the model reads.</summary>
    public (int Width, int Height) InputSize => (_width, _height);

    /// <summary>The ONNX file of a background-removal folder, or null.</summary>
    public static string? ModelFile(string directory)
    {
        foreach (string candidate in new[] { Path.Combine(directory, "onnx", "model.onnx"), Path.Combine(directory, "model.onnx") })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether <paramref name="directory"/> looks like a background-removal model: an ONNX file and a
    /// <c>preprocessor_config.json</c>, a <c>config.json</c> naming an RMBG architecture (briaai's <c>BriaRMBG</c>), and no
    /// diffusion pipeline.
    /// </summary>
    public static bool IsBackgroundRemovalFolder(string directory)
    {
        if (ModelFile(directory) is null || !File.Exists(Path.Combine(directory, "preprocessor_config.json"))
            || File.Exists(Path.Combine(directory, "model_index.json")) || !File.Exists(Path.Combine(directory, "config.json")))
        {
            return false;
        }

        try
        {
            using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "config.json")));
            return config.RootElement.ValueKind == JsonValueKind.Object
                && config.RootElement.TryGetProperty("architectures", out JsonElement architectures)
                && architectures.ValueKind == JsonValueKind.Array
                && architectures.EnumerateArray().Any(a => a.ValueKind == JsonValueKind.String && a.GetString()!.Contains("RMBG", StringComparison.OrdinalIgnoreCase));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Loads the model of <paramref name="directory"/>.</summary>
    /// <exception cref="DiffusionModelException">The folder has no model file, or ONNX Runtime or the processor config rejects it.</exception>
    public static BackgroundRemover Load(string directory, DiffusionSessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new DiffusionSessionOptions();
        string model = ModelFile(directory) ?? throw new DiffusionModelException($"'{directory}' has no onnx/model.onnx; it is not a background-removal model.");
        JsonElement? processor = null;
        string processorPath = Path.Combine(directory, "preprocessor_config.json");
        try
        {
            if (File.Exists(processorPath))
            {
                using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(processorPath));
                processor = doc.RootElement.Clone();
            }
        }
        catch (JsonException e)
        {
            throw new DiffusionModelException($"'{processorPath}' is not valid JSON: {e.Message}", e);
        }

        using SessionOptions sessionOptions = options.CreateSessionOptions();
        InferenceSession session = DiffusionSessionOptions.OpenSession(model, sessionOptions);

        try
        {
            return new BackgroundRemover(directory, session, processor);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The image with its background made transparent: the same RGB, and the model's mask as the alpha channel (RGBA,
    /// unpremultiplied). The same image gives the same bytes.
    /// </summary>
    public RgbImage RemoveBackground(RgbImage image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        float[] alpha = Matte(image, cancellationToken);
        byte[] mask = new byte[_width * _height * 3];
        for (int i = 0; i < alpha.Length; i++)
        {
            // transformers.js: mask.mul(255).to('uint8').
            byte value = (byte)Math.Clamp((int)(alpha[i] * 255), 0, 255);
            mask[i * 3] = mask[(i * 3) + 1] = mask[(i * 3) + 2] = value;
        }

        RgbImage resized = Encoding.ImageCodec.Resize(new RgbImage(_width, _height, 3, mask), image.Width, image.Height);
        int pixels = image.Width * image.Height;
        var rgba = new byte[pixels * 4];
        for (int i = 0; i < pixels; i++)
        {
            rgba[i * 4] = image.Pixels[i * image.Channels];
            rgba[(i * 4) + 1] = image.Pixels[(i * image.Channels) + 1];
            rgba[(i * 4) + 2] = image.Pixels[(i * image.Channels) + 2];
            rgba[(i * 4) + 3] = resized.Pixels[i * 3];
        }

        return new RgbImage(image.Width, image.Height, 4, rgba);
    }

    /// <summary>The alpha matte in [0, 1] at the model's input size, row-major.</summary>
    internal float[] Matte(RgbImage image, CancellationToken cancellationToken)
    {
        RgbImage resized = Encoding.ImageCodec.Resize(image, _width, _height);
        int plane = _width * _height;
        var input = new float[3 * plane];
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < plane; i++)
            {
                input[(c * plane) + i] = ((resized.Pixels[(i * resized.Channels) + c] * _rescale) - _mean[c]) / _std[c];
            }
        }

        using var runOptions = new RunOptions();
        using CancellationTokenRegistration registration = cancellationToken.Register(() => runOptions.Terminate = true);
        (float[] data, long[] shape) result;
        try
        {
            using OrtValue value = OnnxTensors.Floats(_inputMeta, input, [1, 3, _height, _width]);
            using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(runOptions, [_input], [value], [_output]);
            result = OnnxTensors.Read(outputs[0]);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        if (result.data.Length != plane)
        {
            throw new DiffusionModelException(
                $"'{Directory}': the background-removal model returned [{string.Join(", ", result.shape)}]; one {_height}x{_width} mask was expected.");
        }

        float[] alpha = result.data;
        if (alpha.Any(v => v < -1e-5f || v > 1 + 1e-5f))
        {
            for (int i = 0; i < alpha.Length; i++)
            {
                alpha[i] = 1 / (1 + MathF.Exp(-alpha[i]));
            }
        }

        return alpha;
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    private static (int Width, int Height) Size(JsonElement? processor)
    {
        if (processor is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty("size", out JsonElement size))
        {
            if (size.ValueKind == JsonValueKind.Object && size.TryGetProperty("width", out JsonElement w) && size.TryGetProperty("height", out JsonElement h)
                && w.TryGetInt32(out int width) && h.TryGetInt32(out int height) && width > 0 && height > 0)
            {
                return (width, height);
            }

            if (size.ValueKind == JsonValueKind.Number && size.TryGetInt32(out int side) && side > 0)
            {
                return (side, side);
            }
        }

        return (1024, 1024);
    }

    private static float[] Triple(JsonElement? processor, string name, float fallback)
    {
        if (processor is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out JsonElement v))
        {
            if (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 3 && v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number))
            {
                return [.. v.EnumerateArray().Select(e => e.GetSingle())];
            }

            if (v.ValueKind == JsonValueKind.Number)
            {
                return [v.GetSingle(), v.GetSingle(), v.GetSingle()];
            }
        }

        return [fallback, fallback, fallback];
    }

    private static bool? Bool(JsonElement? processor, string name) =>
        processor is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out JsonElement v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    private static double? Number(JsonElement? processor, string name) =>
        processor is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
}
