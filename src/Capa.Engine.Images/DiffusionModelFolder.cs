using System.Text.Json;
using Capa.Engine.Images.Schedulers;
using Capa.Tokenizers.Clip;

namespace Capa.Engine.Images;

/// <summary>A diffusion model folder that cannot be served: a file is missing or malformed.</summary>
public sealed class DiffusionModelException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Steps and guidance a model uses by default, per quality.</summary>
public sealed record DiffusionDefaults
{
    /// <summary>Steps for standard, low, medium and auto quality.</summary>
    public required int Steps { get; init; }

    /// <summary>Steps for hd and high quality.</summary>
    public required int HighQualitySteps { get; init; }

    /// <summary>Classifier-free guidance scale (1 or less: no guidance, one UNet pass per step).</summary>
    public required float GuidanceScale { get; init; }
}

/// <summary>
/// A Stable Diffusion pipeline folder in the layout diffusers' ONNX export and Optimum publish:
/// <c>model_index.json</c>, <c>scheduler/scheduler_config.json</c>, <c>tokenizer/</c> (CLIP BPE),
/// <c>text_encoder/model.onnx</c>, <c>unet/model.onnx</c> (+ external data), <c>vae_decoder/model.onnx</c> and optionally
/// <c>vae_encoder/model.onnx</c>. An SDXL folder (Optimum's <c>ORTStableDiffusionXLPipeline</c>, stabilityai/sdxl-turbo)
/// adds <c>tokenizer_2/</c> and <c>text_encoder_2/model.onnx</c>. Nothing about the model is assumed: the latent scaling comes from the VAE config, the pad
/// token from the tokenizer files, the native resolution from the UNet config, defaults from the scheduler (and an optional
/// <c>capa_pipeline.json</c> with <c>steps</c>, <c>hd_steps</c> and <c>guidance_scale</c>).
/// </summary>
public sealed class DiffusionModelFolder
{
    private DiffusionModelFolder(string directory)
    {
        Directory = directory;
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>The pipeline's class in <c>model_index.json</c> (e.g. <c>OnnxStableDiffusionPipeline</c>), or null.</summary>
    public string? PipelineClass { get; private init; }

    /// <summary>The scheduler configuration.</summary>
    public required SchedulerConfig Scheduler { get; init; }

    /// <summary>The CLIP tokenizer.</summary>
    public required ClipTokenizer Tokenizer { get; init; }

    /// <summary>Path of the text encoder.</summary>
    public required string TextEncoderPath { get; init; }

    /// <summary>SDXL's second tokenizer (<c>tokenizer_2/</c>), or null for a one-encoder pipeline.</summary>
    public ClipTokenizer? Tokenizer2 { get; init; }

    /// <summary>Path of SDXL's second text encoder (<c>text_encoder_2/model.onnx</c>), or null for a one-encoder pipeline.</summary>
    public string? TextEncoder2Path { get; init; }

    /// <summary>Whether the folder is an SDXL pipeline (two text encoders, pooled text embeddings and time ids).</summary>
    public bool IsXl => TextEncoder2Path is not null;

    /// <summary>
    /// SDXL's <c>force_zeros_for_empty_prompt</c> (<c>model_index.json</c>; diffusers' default true): with no negative prompt
    /// the unconditional embeddings are zeros rather than the encoding of "".
    /// </summary>
    public bool ForceZerosForEmptyPrompt { get; init; } = true;

    /// <summary>
    /// SDXL's <c>requires_aesthetics_score</c> (<c>model_index.json</c>, the refiner's): the time ids are
    /// (height, width, top, left, aesthetic score) instead of (height, width, top, left, target height, target width).
    /// </summary>
    public bool RequiresAestheticsScore { get; init; }

    /// <summary>Path of the UNet.</summary>
    public required string UnetPath { get; init; }

    /// <summary>Path of the VAE decoder.</summary>
    public required string VaeDecoderPath { get; init; }

    /// <summary>Path of the VAE encoder, when the folder has one (edits and variations need it).</summary>
    public string? VaeEncoderPath { get; init; }

    /// <summary>The VAE's latent scaling factor (0.18215 for SD 1.x and 2.x).</summary>
    public required float ScalingFactor { get; init; }

    /// <summary>Pixels per latent cell (8 for SD).</summary>
    public required int VaeScaleFactor { get; init; }

    /// <summary>Latent channels (4 for SD).</summary>
    public required int LatentChannels { get; init; }

    /// <summary>The side in pixels the model was trained at (512 for SD 1.5 and SD-Turbo).</summary>
    public required int NativeSize { get; init; }

    /// <summary>Latent sides must be multiples of this (the UNet halves them once per down block but the last).</summary>
    public required int LatentMultiple { get; init; }

    /// <summary>Default steps and guidance.</summary>
    public required DiffusionDefaults Defaults { get; init; }

    /// <summary>Whether <paramref name="directory"/> looks like a diffusion pipeline (a UNet and a VAE decoder).</summary>
    public static bool IsDiffusionFolder(string directory) =>
        File.Exists(Path.Combine(directory, "unet", "model.onnx")) && File.Exists(Path.Combine(directory, "vae_decoder", "model.onnx"));

    /// <summary>Reads the folder's configs and tokenizer (the ONNX files are opened by <see cref="StableDiffusionPipeline"/>).</summary>
    /// <exception cref="DiffusionModelException">A required file is missing or malformed.</exception>
    public static DiffusionModelFolder Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string Required(params string[] parts) => RequiredFor("it is not a diffusers ONNX pipeline", parts);
        string RequiredFor(string why, params string[] parts)
        {
            string path = Path.Combine([directory, .. parts]);
            return File.Exists(path) ? path : throw new DiffusionModelException($"'{directory}' has no {string.Join('/', parts)}; {why}.");
        }

        try
        {
            string textEncoder = Required("text_encoder", "model.onnx");
            string unet = Required("unet", "model.onnx");
            string vaeDecoder = Required("vae_decoder", "model.onnx");
            string schedulerPath = Required("scheduler", "scheduler_config.json");
            string vaeEncoder = Path.Combine(directory, "vae_encoder", "model.onnx");
            using JsonDocument? index = ReadJson(Path.Combine(directory, "model_index.json"));

            // SDXL: model_index.json names a second encoder, or the folder has one; then both of its parts must be there.
            bool xl = Listed(index, "text_encoder_2") || Listed(index, "tokenizer_2")
                || System.IO.Directory.Exists(Path.Combine(directory, "text_encoder_2")) || System.IO.Directory.Exists(Path.Combine(directory, "tokenizer_2"));
            string? textEncoder2 = null;
            ClipTokenizer? tokenizer2 = null;
            if (xl)
            {
                const string Why = "an SDXL pipeline (it names a second text encoder) needs tokenizer_2/ and text_encoder_2/";
                textEncoder2 = RequiredFor(Why, "text_encoder_2", "model.onnx");
                if (!File.Exists(Path.Combine(directory, "tokenizer_2", "tokenizer.json")))
                {
                    RequiredFor(Why, "tokenizer_2", "vocab.json");
                    RequiredFor(Why, "tokenizer_2", "merges.txt");
                }

                tokenizer2 = ClipTokenizer.FromFolder(Path.Combine(directory, "tokenizer_2"));
            }

            var scheduler = SchedulerConfig.FromJson(File.ReadAllText(schedulerPath));
            ClipTokenizer tokenizer = ClipTokenizer.FromFolder(Path.Combine(directory, "tokenizer"));

            using JsonDocument? vae = ReadJson(Path.Combine(directory, "vae_decoder", "config.json"));
            using JsonDocument? unetConfig = ReadJson(Path.Combine(directory, "unet", "config.json"));
            using JsonDocument? capa = ReadJson(Path.Combine(directory, "capa_pipeline.json"));
            float scaling = (float)(Number(vae, "scaling_factor") ?? 0.18215);
            int vaeBlocks = ArrayLength(vae, "block_out_channels") ?? 4;
            int vaeScale = 1 << Math.Max(0, vaeBlocks - 1);
            int latentChannels = (int)(Number(vae, "latent_channels") ?? 4);
            int unetBlocks = ArrayLength(unetConfig, "block_out_channels") ?? 4;
            int sampleSize = (int)(Number(unetConfig, "sample_size") ?? 64);
            DiffusionDefaults defaults = DefaultsFor(scheduler);
            defaults = defaults with
            {
                Steps = (int?)Number(capa, "steps") ?? defaults.Steps,
                HighQualitySteps = (int?)Number(capa, "hd_steps") ?? defaults.HighQualitySteps,
                GuidanceScale = (float?)Number(capa, "guidance_scale") ?? defaults.GuidanceScale,
            };
            return new DiffusionModelFolder(directory)
            {
                PipelineClass = index?.RootElement.ValueKind == JsonValueKind.Object && index.RootElement.TryGetProperty("_class_name", out var cls) && cls.ValueKind == JsonValueKind.String ? cls.GetString() : null,
                Scheduler = scheduler,
                Tokenizer = tokenizer,
                TextEncoderPath = textEncoder,
                Tokenizer2 = tokenizer2,
                TextEncoder2Path = textEncoder2,
                ForceZerosForEmptyPrompt = Bool(index, "force_zeros_for_empty_prompt") ?? true,
                RequiresAestheticsScore = Bool(index, "requires_aesthetics_score") ?? false,
                UnetPath = unet,
                VaeDecoderPath = vaeDecoder,
                VaeEncoderPath = File.Exists(vaeEncoder) ? vaeEncoder : null,
                ScalingFactor = scaling,
                VaeScaleFactor = vaeScale,
                LatentChannels = latentChannels,
                NativeSize = sampleSize * vaeScale,
                LatentMultiple = 1 << Math.Max(0, unetBlocks - 1),
                Defaults = defaults,
            };
        }
        catch (Exception e) when (e is JsonException or FormatException or IOException or UnauthorizedAccessException or NotSupportedException or InvalidOperationException)
        {
            throw new DiffusionModelException($"'{directory}' cannot be read as a diffusion pipeline: {e.Message}", e);
        }
    }

    /// <summary>
    /// The size to generate at for a requested size: the model's native area at the requested aspect ratio, each side a
    /// multiple of what the UNet and VAE need. The image is resized to the requested size afterwards.
    /// </summary>
    public (int Width, int Height) GenerationSize(int width, int height)
    {
        int multiple = VaeScaleFactor * LatentMultiple;
        double aspect = (double)width / height;
        double area = (double)NativeSize * NativeSize;
        int w = RoundTo(Math.Sqrt(area * aspect), multiple);
        int h = RoundTo(Math.Sqrt(area / aspect), multiple);
        return (w, h);
    }

    private static int RoundTo(double value, int multiple) => Math.Max(multiple, (int)Math.Round(value / multiple, MidpointRounding.AwayFromZero) * multiple);

    /// <summary>The model cards' defaults: turbo (trailing Euler) 1 step, 4 for hd, no guidance; LCM 4 and 8; otherwise 25 and 50 at 7.5.</summary>
    private static DiffusionDefaults DefaultsFor(SchedulerConfig scheduler) => scheduler switch
    {
        { TimestepSpacing: "trailing" } => new DiffusionDefaults { Steps = 1, HighQualitySteps = 4, GuidanceScale = 0 },
        { ClassName: "LCMScheduler" } => new DiffusionDefaults { Steps = 4, HighQualitySteps = 8, GuidanceScale = 8.5f },
        _ => new DiffusionDefaults { Steps = 25, HighQualitySteps = 50, GuidanceScale = 7.5f },
    };

    private static JsonDocument? ReadJson(string path) =>
        File.Exists(path) ? JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowTrailingCommas = true }) : null;

    private static double? Number(JsonDocument? doc, string name) =>
        doc?.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static bool? Bool(JsonDocument? doc, string name) =>
        doc?.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    /// <summary>Whether <c>model_index.json</c> lists <paramref name="name"/> as a component (not <c>[null, null]</c>).</summary>
    private static bool Listed(JsonDocument? doc, string name) =>
        doc?.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(name, out var v)
        && v.ValueKind == JsonValueKind.Array && v.EnumerateArray().Any(e => e.ValueKind == JsonValueKind.String);

    private static int? ArrayLength(JsonDocument? doc, string name) =>
        doc?.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.GetArrayLength() : null;
}
