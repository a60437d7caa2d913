using Capa.Engine.Images.Noise;
using Capa.Engine.Images.Schedulers;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Images;

/// <summary>Options for loading a <see cref="StableDiffusionPipeline"/>.</summary>
public sealed record DiffusionSessionOptions
{
    /// <summary>Threads ONNX Runtime uses inside one operator (fixed, so results repeat bit for bit).</summary>
    public int IntraOpThreads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>ONNX Runtime's options for every session of an image model: fixed threads, sequential, fully optimised.</summary>
    internal SessionOptions CreateSessionOptions() => new()
    {
        IntraOpNumThreads = IntraOpThreads,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
    };

    /// <summary>Opens one model file.</summary>
    /// <exception cref="DiffusionModelException">ONNX Runtime rejects the file.</exception>
    internal static InferenceSession OpenSession(string path, SessionOptions sessionOptions)
    {
        try
        {
            return new InferenceSession(path, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new DiffusionModelException($"ONNX Runtime cannot load '{path}': {e.Message}", e);
        }
    }
}

/// <summary>One generation: a prompt, a size, a seed; optionally an image to start from and a mask of what to repaint.</summary>
public sealed record DiffusionRequest
{
    /// <summary>The prompt, in English (CLIP reads no other language well).</summary>
    public required string Prompt { get; init; }

    /// <summary>SDXL's prompt for the second text encoder (diffusers' <c>prompt_2</c>); null for <see cref="Prompt"/>.</summary>
    public string? Prompt2 { get; init; }

    /// <summary>What the image should not show; empty for none.</summary>
    public string NegativePrompt { get; init; } = "";

    /// <summary>Width of the image returned (it is generated at the model's native area and resized).</summary>
    public required int Width { get; init; }

    /// <summary>Height of the image returned.</summary>
    public required int Height { get; init; }

    /// <summary>The seed of the initial noise (torch.manual_seed compatible) and of any noise drawn between steps.</summary>
    public ulong Seed { get; init; }

    /// <summary>Steps; null for the model's default for <see cref="HighQuality"/>.</summary>
    public int? Steps { get; init; }

    /// <summary>Whether the model's high-quality step count applies.</summary>
    public bool HighQuality { get; init; }

    /// <summary>Guidance scale; null for the model's default.</summary>
    public float? GuidanceScale { get; init; }

    /// <summary>An image to start from (edits, variations), any size; null to start from noise.</summary>
    public RgbImage? InitImage { get; init; }

    /// <summary>With <see cref="InitImage"/>: an RGBA mask whose transparent pixels are repainted (others are kept).</summary>
    public RgbImage? Mask { get; init; }

    /// <summary>With <see cref="InitImage"/> and no mask: how much of the image is re-imagined (0–1).</summary>
    public double Strength { get; init; } = 0.75;

    /// <summary>Previews to decode from intermediate latents (0–3).</summary>
    public int Previews { get; init; }
}

/// <summary>Progress of a generation: after each step, with a preview image at the steps previews were asked for.</summary>
public sealed record DiffusionProgress(int Step, int TotalSteps, RgbImage? Preview, int PreviewIndex);

/// <summary>A generated image and what it took.</summary>
public sealed record DiffusionResult(RgbImage Image, int TextTokens, int Steps, int GenerationWidth, int GenerationHeight)
{
    /// <summary>Where the time went.</summary>
    public DiffusionTimings Timings { get; init; } = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
}

/// <summary>Time spent in the text encoder, the UNet steps (with the scheduler between them) and the VAE (previews included).</summary>
public sealed record DiffusionTimings(TimeSpan TextEncoder, TimeSpan Unet, TimeSpan Vae);

/// <summary>
/// A Stable Diffusion pipeline on ONNX Runtime: CLIP text encoder (SDXL: two, with pooled embeddings and time ids), UNet denoising loop with classifier-free guidance, VAE
/// decoder (and encoder for img2img and inpainting). Input names, element types and shapes come from the sessions
/// (int64 or float timesteps, float16 exports, dynamic or fixed batch). The sessions are loaded once and shared; any number
/// of generations may run at once. The same request and seed give the same pixels.
/// </summary>
public sealed class StableDiffusionPipeline : IDisposable
{
    private readonly TextConditioning _text;
    private readonly InferenceSession _unet;
    private readonly InferenceSession _vaeDecoder;
    private readonly InferenceSession? _vaeEncoder;
    private readonly NodeMetadata _sampleMeta;
    private readonly NodeMetadata _timestepMeta;
    private readonly NodeMetadata _hiddenMeta;
    private readonly NodeMetadata? _timestepCondMeta;
    private readonly string _unetOutput;
    private readonly string _latentInput;
    private readonly NodeMetadata _latentMeta;
    private readonly bool _batchedGuidance;
    private readonly bool _inpaintingUnet;

    private StableDiffusionPipeline(DiffusionModelFolder folder, InferenceSession textEncoder, InferenceSession? textEncoder2, InferenceSession unet, InferenceSession vaeDecoder, InferenceSession? vaeEncoder)
    {
        Folder = folder;
        _unet = unet;
        _vaeDecoder = vaeDecoder;
        _vaeEncoder = vaeEncoder;
        foreach (string name in new[] { "sample", "timestep", "encoder_hidden_states" })
        {
            if (!unet.InputMetadata.ContainsKey(name))
            {
                throw new DiffusionModelException($"'{folder.UnetPath}' has no '{name}' input; it is not a Stable Diffusion UNet.");
            }
        }

        _text = TextConditioning.Create(folder, textEncoder, textEncoder2, unet);
        _sampleMeta = unet.InputMetadata["sample"];
        _timestepMeta = unet.InputMetadata["timestep"];
        _hiddenMeta = unet.InputMetadata["encoder_hidden_states"];
        _timestepCondMeta = unet.InputMetadata.TryGetValue("timestep_cond", out var cond) ? cond : null;
        _unetOutput = unet.OutputMetadata.ContainsKey("out_sample") ? "out_sample" : unet.OutputMetadata.Keys.First();
        _latentInput = vaeDecoder.InputMetadata.ContainsKey("latent_sample") ? "latent_sample" : vaeDecoder.InputMetadata.Keys.First();
        _latentMeta = vaeDecoder.InputMetadata[_latentInput];
        // An inpainting UNet (SD inpainting models) reads the latents, the repaint mask and the masked image's latents.
        long sampleChannels = _sampleMeta.Dimensions.Length == 4 ? _sampleMeta.Dimensions[1] : folder.LatentChannels;
        _inpaintingUnet = sampleChannels == (2 * folder.LatentChannels) + 1;
        if (sampleChannels > 0 && sampleChannels != folder.LatentChannels && !_inpaintingUnet)
        {
            throw new DiffusionModelException(
                $"'{folder.UnetPath}' takes {sampleChannels} input channels; {folder.LatentChannels} (a text-to-image UNet) or {(2 * folder.LatentChannels) + 1} (an inpainting UNet) are expected.");
        }

        if (_inpaintingUnet && vaeEncoder is null)
        {
            throw new DiffusionModelException($"'{folder.UnetPath}' is an inpainting UNet, which needs the folder's vae_encoder; it has none.");
        }

        // Guidance runs the unconditional and conditional passes as one batch of two when the batch dimension is free.
        _batchedGuidance = _sampleMeta.Dimensions.Length > 0 && _sampleMeta.Dimensions[0] <= 0;
    }

    /// <summary>The folder the sessions were loaded from.</summary>
    public DiffusionModelFolder Folder { get; }

    /// <summary>Whether edits and variations can run (the folder has a VAE encoder).</summary>
    public bool CanEncodeImages => _vaeEncoder is not null;

    /// <summary>Whether the UNet is an inpainting one (latents, mask and masked image's latents in).</summary>
    public bool IsInpainting => _inpaintingUnet;

    /// <summary>Loads the sessions of <paramref name="folder"/>.</summary>
    /// <exception cref="DiffusionModelException">ONNX Runtime rejects a file, or a graph lacks the pipeline's inputs.</exception>
    public static StableDiffusionPipeline Load(DiffusionModelFolder folder, DiffusionSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        options ??= new DiffusionSessionOptions();
        using SessionOptions sessionOptions = options.CreateSessionOptions();
        var opened = new List<InferenceSession>();
        InferenceSession Open(string path)
        {
            InferenceSession session = DiffusionSessionOptions.OpenSession(path, sessionOptions);
            opened.Add(session);
            return session;
        }

        try
        {
            return new StableDiffusionPipeline(
                folder,
                Open(folder.TextEncoderPath),
                folder.TextEncoder2Path is { } textEncoder2 ? Open(textEncoder2) : null,
                Open(folder.UnetPath),
                Open(folder.VaeDecoderPath),
                folder.VaeEncoderPath is { } encoder ? Open(encoder) : null);
        }
        catch
        {
            foreach (InferenceSession session in opened)
            {
                session.Dispose();
            }

            throw;
        }
    }

    /// <summary>Generates one image.</summary>
    /// <exception cref="OperationCanceledException">Cancelled (checked between steps and inside ONNX Runtime runs).</exception>
    public DiffusionResult Generate(DiffusionRequest request, Action<DiffusionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var runOptions = new RunOptions();
        using CancellationTokenRegistration registration = cancellationToken.Register(() => runOptions.Terminate = true);
        try
        {
            return GenerateCore(request, progress, runOptions, cancellationToken);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    /// <summary>The number of prompt tokens the text encoder reads (the prompt truncated to its length).</summary>
    public int CountPromptTokens(string prompt) => _text.CountPromptTokens(prompt);

    /// <summary>The UNet conditioning of a prompt at a generation size, with the names of the inputs beyond encoder_hidden_states.</summary>
    internal (PromptConditioning Conditioning, IReadOnlyList<AddedUnetInput> Added) EncodePrompt(string prompt, string? prompt2, int width, int height, string negativePrompt = "", bool negative = false)
    {
        using var runOptions = new RunOptions();
        PromptConditioning positive = _text.Encode(prompt, prompt2, width, height, runOptions, out _);
        return (negative ? _text.EncodeNegative(negativePrompt, positive, width, height, runOptions) : positive, _text.AddedInputs);
    }

    private DiffusionResult GenerateCore(DiffusionRequest request, Action<DiffusionProgress>? progress, RunOptions runOptions, CancellationToken ct)
    {
        DiffusionModelFolder folder = Folder;
        int steps = request.Steps ?? (request.HighQuality ? folder.Defaults.HighQualitySteps : folder.Defaults.Steps);
        float guidance = request.GuidanceScale ?? folder.Defaults.GuidanceScale;
        bool guided = guidance > 1 && _timestepCondMeta is null;
        var (genWidth, genHeight) = folder.GenerationSize(request.Width, request.Height);
        int latentW = genWidth / folder.VaeScaleFactor, latentH = genHeight / folder.VaeScaleFactor;
        int channels = folder.LatentChannels;
        int latentSize = channels * latentH * latentW;

        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        PromptConditioning condition = _text.Encode(request.Prompt, request.Prompt2, genWidth, genHeight, runOptions, out int textTokens);
        PromptConditioning? unconditional = guided ? _text.EncodeNegative(request.NegativePrompt, condition, genWidth, genHeight, runOptions) : null;
        TimeSpan textTime = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        TimeSpan vaeTime = TimeSpan.Zero;
        ct.ThrowIfCancellationRequested();

        DiffusionScheduler scheduler = DiffusionScheduler.Create(folder.Scheduler, steps);
        var generator = new TorchGenerator(request.Seed);
        float[] latents = generator.Randn(latentSize);
        int firstStep = 0;
        float[]? originalLatents = null;
        float[]? noise = null;
        float[]? keep = null;
        float[]? conditioning = null;
        if (_inpaintingUnet)
        {
            conditioning = InpaintingConditioning(request, genWidth, genHeight, latentW, latentH, runOptions);
        }

        if (request.InitImage is { } init && (!_inpaintingUnet || request.Mask is null))
        {
            // An inpainting UNet with no mask repaints everything from the image's noised latents (image-to-image); with a
            // mask it starts from pure noise, as diffusers' inpainting pipeline at strength 1, and the mask channels guide it.
            originalLatents = EncodeImage(init, genWidth, genHeight, runOptions);
            noise = latents;
            if (request.Mask is { } mask && !_inpaintingUnet)
            {
                keep = LatentKeepMask(mask, latentW, latentH, channels);
            }
            else
            {
                firstStep = scheduler.FirstStepFor(request.Strength);
            }

            latents = (float[])originalLatents.Clone();
            if (keep is null)
            {
                scheduler.AddNoise(latents, noise, firstStep);
            }
            else
            {
                // Inpainting starts from pure noise where the mask repaints, the noised original elsewhere.
                float[] noised = (float[])originalLatents.Clone();
                scheduler.AddNoise(noised, noise, 0);
                for (int i = 0; i < latentSize; i++)
                {
                    latents[i] = keep[i] > 0 ? noised[i] : noise[i] * scheduler.InitNoiseSigma;
                }
            }
        }
        else
        {
            float sigma = scheduler.InitNoiseSigma;
            for (int i = 0; i < latentSize; i++)
            {
                latents[i] *= sigma;
            }
        }

        long[] sampleShape = [1, channels, latentH, latentW];
        long[] unetShape = conditioning is null ? sampleShape : [1, channels + (conditioning.Length / (latentH * latentW)), latentH, latentW];
        float[] denoised = new float[latentSize];
        float[]? timestepCond = _timestepCondMeta is not null ? GuidanceEmbedding(guidance, _timestepCondMeta) : null;
        int total = scheduler.Timesteps.Count - firstStep;
        int[] previewAfter = PreviewSteps(request.Previews, total);
        int previewIndex = 0;
        for (int step = firstStep; step < scheduler.Timesteps.Count; step++)
        {
            ct.ThrowIfCancellationRequested();
            float t = scheduler.Timesteps[step];
            float scale = scheduler.InputScale(step);
            var input = new float[latentSize + (conditioning?.Length ?? 0)];
            for (int i = 0; i < latentSize; i++)
            {
                input[i] = latents[i] * scale;
            }

            conditioning?.CopyTo(input, latentSize);
            float[] output = guided
                ? Guided(input, t, unconditional!, condition, unetShape, guidance, runOptions)
                : RunUnet(input, unetShape, t, condition, 1, timestepCond, runOptions);
            scheduler.Step(output, step, latents, denoised, generator);
            if (keep is not null)
            {
                // Outside the mask the latents follow the original, noised to the next step's level (the last step: clean).
                float[] reference = (float[])originalLatents!.Clone();
                if (step + 1 < scheduler.Timesteps.Count)
                {
                    scheduler.AddNoise(reference, noise!, step + 1);
                }

                for (int i = 0; i < latentSize; i++)
                {
                    latents[i] = (keep[i] * reference[i]) + ((1 - keep[i]) * latents[i]);
                }
            }

            int done = step - firstStep + 1;
            RgbImage? preview = null;
            if (previewIndex < previewAfter.Length && previewAfter[previewIndex] == done)
            {
                long decodeStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                preview = Resize(Decode(denoised, sampleShape, runOptions), request);
                vaeTime += System.Diagnostics.Stopwatch.GetElapsedTime(decodeStarted);
            }

            progress?.Invoke(new DiffusionProgress(done, total, preview, preview is null ? -1 : previewIndex));
            if (preview is not null)
            {
                previewIndex++;
            }
        }

        ct.ThrowIfCancellationRequested();
        long finalStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        TimeSpan unetTime = System.Diagnostics.Stopwatch.GetElapsedTime(started, finalStarted) - textTime - vaeTime;
        RgbImage image = Resize(Decode(latents, sampleShape, runOptions), request);
        vaeTime += System.Diagnostics.Stopwatch.GetElapsedTime(finalStarted);
        return new DiffusionResult(image, textTokens, total, genWidth, genHeight) { Timings = new DiffusionTimings(textTime, unetTime, vaeTime) };
    }

    private static RgbImage Resize(RgbImage image, DiffusionRequest request) => Encoding.ImageCodec.Resize(image, request.Width, request.Height);

    /// <summary>After which completed steps previews are decoded: spread over the steps, never after the last.</summary>
    internal static int[] PreviewSteps(int previews, int total)
    {
        int count = Math.Min(previews, total - 1);
        if (count <= 0)
        {
            return [];
        }

        var steps = new SortedSet<int>();
        for (int i = 1; i <= count; i++)
        {
            steps.Add(Math.Clamp((int)Math.Round((double)i * total / (count + 1), MidpointRounding.AwayFromZero), 1, total - 1));
        }

        return [.. steps];
    }

    private float[] Guided(float[] input, float t, PromptConditioning unconditional, PromptConditioning condition, long[] sampleShape, float guidance, RunOptions runOptions)
    {
        float[] uncond, cond;
        if (_batchedGuidance)
        {
            // One batch of two: the unconditional image first, as diffusers concatenates them.
            var both = new PromptConditioning(
                [.. unconditional.Hidden, .. condition.Hidden],
                [2, .. condition.HiddenShape[1..]],
                [.. unconditional.Added.Zip(condition.Added, (u, c) => u.Concat(c).ToArray())]);
            float[] output = RunUnet([.. input, .. input], [2, .. sampleShape[1..]], t, both, 2, null, runOptions);
            uncond = output[..(output.Length / 2)];
            cond = output[(output.Length / 2)..];
        }
        else
        {
            uncond = RunUnet(input, sampleShape, t, unconditional, 1, null, runOptions);
            cond = RunUnet(input, sampleShape, t, condition, 1, null, runOptions);
        }

        // The output has the latents' channels, fewer than an inpainting UNet's input.
        var result = new float[uncond.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = uncond[i] + (guidance * (cond[i] - uncond[i]));
        }

        return result;
    }

    private float[] RunUnet(float[] sample, long[] sampleShape, float t, PromptConditioning text, int batch, float[]? timestepCond, RunOptions runOptions)
    {
        var names = new List<string> { "sample", "timestep", "encoder_hidden_states" };
        var values = new List<OrtValue>();
        try
        {
            values.Add(OnnxTensors.Floats(_sampleMeta, sample, sampleShape));
            values.Add(OnnxTensors.Timestep(_timestepMeta, t, batch));
            values.Add(OnnxTensors.Floats(_hiddenMeta, text.Hidden, text.HiddenShape));
            IReadOnlyList<AddedUnetInput> added = _text.AddedInputs;
            for (int i = 0; i < added.Count; i++)
            {
                names.Add(added[i].Name);
                values.Add(OnnxTensors.Floats(added[i].Meta, text.Added[i], [batch, added[i].Length]));
            }

            if (timestepCond is not null)
            {
                names.Add("timestep_cond");
                values.Add(OnnxTensors.Floats(_timestepCondMeta!, timestepCond, [1, timestepCond.Length]));
            }

            using IDisposableReadOnlyCollection<OrtValue> outputs = _unet.Run(runOptions, names, values, [_unetOutput]);
            return OnnxTensors.Read(outputs[0]).Data;
        }
        finally
        {
            foreach (OrtValue value in values)
            {
                value.Dispose();
            }
        }
    }

    private RgbImage Decode(float[] latents, long[] shape, RunOptions runOptions)
    {
        float inverse = 1 / Folder.ScalingFactor;
        float[] scaled = [.. latents.Select(x => x * inverse)];
        using OrtValue input = OnnxTensors.Floats(_latentMeta, scaled, shape);
        string output = _vaeDecoder.OutputMetadata.ContainsKey("sample") ? "sample" : _vaeDecoder.OutputMetadata.Keys.First();
        using IDisposableReadOnlyCollection<OrtValue> outputs = _vaeDecoder.Run(runOptions, [_latentInput], [input], [output]);
        (float[] data, long[] outShape) = OnnxTensors.Read(outputs[0]);
        int height = (int)outShape[2], width = (int)outShape[3];
        int plane = height * width;
        var pixels = new byte[plane * 3];
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < plane; i++)
            {
                // diffusers: (x / 2 + 0.5).clamp(0, 1), then (x * 255).round().
                float v = Math.Clamp((data[(c * plane) + i] / 2) + 0.5f, 0, 1);
                pixels[(i * 3) + c] = (byte)MathF.Round(v * 255, MidpointRounding.ToEven);
            }
        }

        return new RgbImage(width, height, 3, pixels);
    }

    private float[] EncodeImage(RgbImage image, int width, int height, RunOptions runOptions)
    {
        if (_vaeEncoder is null)
        {
            throw new DiffusionModelException($"'{Folder.Directory}' has no vae_encoder; it cannot edit images.");
        }

        return EncodePixels(Pixels(image, width, height), width, height, runOptions);
    }

    /// <summary>The image resized to <paramref name="width"/>×<paramref name="height"/>, as planar RGB in [−1, 1].</summary>
    private static float[] Pixels(RgbImage image, int width, int height)
    {
        RgbImage resized = Encoding.ImageCodec.Resize(image, width, height);
        int plane = width * height, stride = resized.Channels;
        var pixels = new float[3 * plane];
        for (int i = 0; i < plane; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                pixels[(c * plane) + i] = (resized.Pixels[(i * stride) + c] / 127.5f) - 1;
            }
        }

        return pixels;
    }

    /// <summary>
    /// What an inpainting UNet reads beside the latents (diffusers' StableDiffusionInpaintPipeline): the repaint mask at
    /// latent resolution (1 = repaint: the request mask's transparent pixels; everything without a mask), then the latents
    /// of the image with the repainted pixels blanked (0 in [−1, 1]; no image: all blank).
    /// </summary>
    private float[] InpaintingConditioning(DiffusionRequest request, int width, int height, int latentW, int latentH, RunOptions runOptions)
    {
        int plane = width * height;
        var repaint = new float[plane];
        if (request.Mask is { } mask)
        {
            RgbImage resized = Encoding.ImageCodec.Resize(mask, width, height);
            for (int i = 0; i < plane; i++)
            {
                repaint[i] = resized.Channels == 4 && resized.Pixels[(i * 4) + 3] < 128 ? 1 : 0;
            }
        }
        else
        {
            Array.Fill(repaint, 1f);
        }

        float[] pixels = request.InitImage is { } image ? Pixels(image, width, height) : new float[3 * plane];
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < plane; i++)
            {
                if (repaint[i] > 0)
                {
                    pixels[(c * plane) + i] = 0;
                }
            }
        }

        float[] maskedLatents = EncodePixels(pixels, width, height, runOptions);

        // Nearest-neighbour down to the latents, as torch's interpolate in the reference pipeline.
        var result = new float[(latentW * latentH) + maskedLatents.Length];
        for (int y = 0; y < latentH; y++)
        {
            for (int x = 0; x < latentW; x++)
            {
                result[(y * latentW) + x] = repaint[((y * height / latentH) * width) + (x * width / latentW)];
            }
        }

        maskedLatents.CopyTo(result, latentW * latentH);
        return result;
    }

    private float[] EncodePixels(float[] pixels, int width, int height, RunOptions runOptions)
    {
        if (_vaeEncoder is null)
        {
            throw new DiffusionModelException($"'{Folder.Directory}' has no vae_encoder; it cannot edit images.");
        }

        string inputName = _vaeEncoder.InputMetadata.ContainsKey("sample") ? "sample" : _vaeEncoder.InputMetadata.Keys.First();
        string outputName = _vaeEncoder.OutputMetadata.Keys.First();
        using OrtValue input = OnnxTensors.Floats(_vaeEncoder.InputMetadata[inputName], pixels, [1, 3, height, width]);
        using IDisposableReadOnlyCollection<OrtValue> outputs = _vaeEncoder.Run(runOptions, [inputName], [input], [outputName]);
        (float[] data, long[] shape) = OnnxTensors.Read(outputs[0]);
        int channels = Folder.LatentChannels;
        int size = channels * (int)shape[2] * (int)shape[3];

        // Exports that return the distribution's parameters (mean, log-variance) give twice the channels: the mean is used.
        var latents = new float[size];
        for (int i = 0; i < size; i++)
        {
            latents[i] = data[i] * Folder.ScalingFactor;
        }

        return latents;
    }

    /// <summary>1 where the latents keep the original (mask opaque), 0 where they are repainted (mask transparent).</summary>
    private static float[] LatentKeepMask(RgbImage mask, int latentW, int latentH, int channels)
    {
        RgbImage small = Encoding.ImageCodec.Resize(mask, latentW, latentH);
        int plane = latentW * latentH;
        var keep = new float[channels * plane];
        for (int i = 0; i < plane; i++)
        {
            float alpha = small.Channels == 4 ? small.Pixels[(i * 4) + 3] / 255f : 1f;
            float value = alpha >= 0.5f ? 1f : 0f;
            for (int c = 0; c < channels; c++)
            {
                keep[(c * plane) + i] = value;
            }
        }

        return keep;
    }

    /// <summary>LCM's guidance embedding: sinusoids of w = (guidance − 1) × 1000 (diffusers' get_guidance_scale_embedding).</summary>
    internal static float[] GuidanceEmbedding(float guidance, NodeMetadata meta)
    {
        int dim = meta.Dimensions.Length == 2 && meta.Dimensions[1] > 0 ? meta.Dimensions[1] : 256;
        return GuidanceEmbedding(guidance, dim);
    }

    internal static float[] GuidanceEmbedding(float guidance, int dim)
    {
        float w = (guidance - 1) * 1000;
        int half = dim / 2;
        double step = Math.Log(10000.0) / (half - 1);
        var result = new float[dim];
        for (int i = 0; i < half; i++)
        {
            float frequency = (float)Math.Exp(i * -step);
            result[i] = MathF.Sin(w * frequency);
            result[half + i] = MathF.Cos(w * frequency);
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _text.Dispose();
        _unet.Dispose();
        _vaeDecoder.Dispose();
        _vaeEncoder?.Dispose();
    }
}
