using Capa.Models.Onnx;

namespace Capa.TestModels.Images;

/// <summary>Sizes of random-weight diffusion folders.</summary>
public enum DiffusionTestSize
{
    /// <summary>64×64 native (8×8 latents), a few thousand weights: a generation takes milliseconds.</summary>
    Tiny,

    /// <summary>
    /// SD-Turbo's real shapes (Stable Diffusion 2.1 base: ViT-H text encoder, 865.9 M-parameter UNet, VAE) in float32
    /// with random weights, about 5.2 GB: for benchmarks, never for tests.
    /// </summary>
    SdTurbo,
}

/// <summary>Pipelines a random-weight diffusion folder can imitate.</summary>
public enum DiffusionTestArchitecture
{
    /// <summary>Stable Diffusion 1.x / 2.x / Turbo: one CLIP text encoder.</summary>
    StableDiffusion,

    /// <summary>
    /// SDXL / SDXL-Turbo as Optimum exports it: <c>tokenizer_2/</c> and <c>text_encoder_2/</c> (with projection), every
    /// encoder returning its hidden states, a UNet reading <c>text_embeds</c> and <c>time_ids</c>, SDXL's VAE scaling
    /// (0.13025) and SDXL-Turbo's scheduler (Euler ancestral, trailing).
    /// </summary>
    StableDiffusionXl,
}

/// <summary>What <see cref="DiffusionTestModelWriter.Write"/> generates. The same spec always yields the same bytes.</summary>
public sealed record DiffusionTestModelSpec
{
    /// <summary>The size.</summary>
    public DiffusionTestSize Size { get; init; } = DiffusionTestSize.Tiny;

    /// <summary>The pipeline imitated (SDXL: tiny only).</summary>
    public DiffusionTestArchitecture Architecture { get; init; } = DiffusionTestArchitecture.StableDiffusion;

    /// <summary>Seed of the weights' pseudo-random generator.</summary>
    public ulong Seed { get; init; }

    /// <summary>The UNet's timestep as diffusers' legacy export declares it (int64 [batch]) instead of Optimum's float scalar.</summary>
    public bool Int64Timestep { get; init; }

    /// <summary>An inpainting UNet (9 input channels: latents, mask, masked image's latents), as SD inpainting models have.</summary>
    public bool Inpainting { get; init; }

    /// <summary>The scheduler_config.json to write; null for SD-Turbo's (Euler, trailing spacing), or SDXL-Turbo's for SDXL.</summary>
    public string? SchedulerConfigJson { get; init; }

    /// <summary>Parses a size name (<c>tiny</c>, <c>sd-turbo</c>).</summary>
    public static DiffusionTestSize ParseSize(string value) => value?.Trim().ToLowerInvariant() switch
    {
        "tiny" => DiffusionTestSize.Tiny,
        "sd-turbo" => DiffusionTestSize.SdTurbo,
        _ => throw new ArgumentException($"Unknown Stable Diffusion size '{value}'. Expected tiny or sd-turbo.", nameof(value)),
    };

    /// <summary>Parses an architecture name (<c>sd</c>, <c>sdxl</c>).</summary>
    public static DiffusionTestArchitecture ParseArchitecture(string value) => value?.Trim().ToLowerInvariant() switch
    {
        "sd" => DiffusionTestArchitecture.StableDiffusion,
        "sdxl" => DiffusionTestArchitecture.StableDiffusionXl,
        _ => throw new ArgumentException($"Unknown diffusion architecture '{value}'. Expected sd or sdxl.", nameof(value)),
    };
}

/// <summary>
/// Writes a random-weight Stable Diffusion folder in the layout of diffusers' ONNX export (as Optimum and the ONNX Runtime
/// model hubs publish it): <c>model_index.json</c>, <c>scheduler/scheduler_config.json</c> (SD-Turbo's), <c>tokenizer/</c>
/// (CLIP files, SD 2's "!" pad token), <c>text_encoder/</c>, <c>unet/</c>, <c>vae_decoder/</c> and <c>vae_encoder/</c>,
/// each <c>model.onnx</c> with a <c>config.json</c>. The networks are simplified, with the real inputs and outputs.
/// </summary>
public static class DiffusionTestModelWriter
{
    /// <summary>SD-Turbo's scheduler config.</summary>
    public const string TurboSchedulerConfig = """
        {
          "_class_name": "EulerDiscreteScheduler",
          "_diffusers_version": "0.24.0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "clip_sample": false,
          "interpolation_type": "linear",
          "num_train_timesteps": 1000,
          "prediction_type": "epsilon",
          "set_alpha_to_one": false,
          "sample_max_value": 1.0,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "timestep_spacing": "trailing",
          "trained_betas": null,
          "use_karras_sigmas": false
        }
        """;

    /// <summary>SDXL-Turbo's scheduler config (stabilityai/sdxl-turbo).</summary>
    public const string XlTurboSchedulerConfig = """
        {
          "_class_name": "EulerAncestralDiscreteScheduler",
          "_diffusers_version": "0.24.0.dev0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "clip_sample": false,
          "interpolation_type": "linear",
          "num_train_timesteps": 1000,
          "prediction_type": "epsilon",
          "sample_max_value": 1.0,
          "set_alpha_to_one": false,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "timestep_spacing": "trailing",
          "trained_betas": null,
          "use_karras_sigmas": false
        }
        """;

    /// <summary>Writes the folder described by <paramref name="spec"/> into <paramref name="directory"/> (created if missing).</summary>
    public static TestModelResult Write(DiffusionTestModelSpec spec, string directory)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (spec.Architecture == DiffusionTestArchitecture.StableDiffusionXl)
        {
            return spec.Size == DiffusionTestSize.Tiny
                ? WriteTinyXl(spec, directory)
                : throw new ArgumentException("SDXL test models come in the tiny size only.", nameof(spec));
        }

        if (spec.Size == DiffusionTestSize.SdTurbo)
        {
            return WriteSdTurbo(spec, directory);
        }

        ClipTestTokenizer tokenizer = ClipTestTokenizer.Instance;
        var shapes = new DiffusionTestShapes { VocabSize = tokenizer.Count };
        var files = new List<string>();
        TinyModel(directory, files, "text_encoder", DiffusionGraphs.TextEncoder(shapes, spec.Seed), TextEncoderConfig("CLIPTextModel", shapes, new TextEncoderShape(shapes.HiddenSize)));
        TinyModel(directory, files, "unet", DiffusionGraphs.Unet(shapes, spec.Seed, spec.Int64Timestep, spec.Inpainting), $$"""
            {"_class_name": "UNet2DConditionModel", "sample_size": {{shapes.SampleSize}}, "in_channels": {{(spec.Inpainting ? 9 : 4)}}, "out_channels": 4, "block_out_channels": [{{shapes.UnetChannels}}], "cross_attention_dim": {{shapes.HiddenSize}}}
            """);
        WriteTinyVae(directory, files, shapes, spec.Seed, scalingFactor: "0.18215");
        files.AddRange(WriteCommon(spec, directory, tokenizer));
        return Result(directory, files, tokenizer);
    }

    /// <summary>
    /// A tiny SDXL folder: two text encoders of different widths (32 and 48, the second with a 40-wide projection), each
    /// with two layers and all hidden states, so that reading the wrong layer, encoder or output changes the image.
    /// </summary>
    private static TestModelResult WriteTinyXl(DiffusionTestModelSpec spec, string directory)
    {
        ClipTestTokenizer tokenizer = ClipTestTokenizer.Instance;
        var shapes = new DiffusionTestShapes { VocabSize = tokenizer.Count };
        var encoder1 = new TextEncoderShape(shapes.HiddenSize, Layers: 2, HiddenStates: true);
        var encoder2 = new TextEncoderShape(48, Layers: 2, HiddenStates: true, Projection: 40, WeightPrefix: "encoder_2.");
        const int TimeIds = 6;
        int context = encoder1.HiddenSize + encoder2.HiddenSize;
        var files = new List<string>();
        TinyModel(directory, files, "text_encoder", DiffusionGraphs.TextEncoder(shapes, encoder1, spec.Seed), TextEncoderConfig("CLIPTextModel", shapes, encoder1));
        TinyModel(directory, files, "text_encoder_2", DiffusionGraphs.TextEncoder(shapes, encoder2, spec.Seed), TextEncoderConfig("CLIPTextModelWithProjection", shapes, encoder2));
        TinyModel(directory, files, "unet", DiffusionGraphs.Unet(shapes, spec.Seed, spec.Int64Timestep, inpainting: false, context, (encoder2.Projection!.Value, TimeIds)), $$"""
            {"_class_name": "UNet2DConditionModel", "sample_size": {{shapes.SampleSize}}, "in_channels": 4, "out_channels": 4, "block_out_channels": [{{shapes.UnetChannels}}], "cross_attention_dim": {{context}}, "addition_embed_type": "text_time", "addition_time_embed_dim": 16, "projection_class_embeddings_input_dim": {{encoder2.Projection + (TimeIds * 16)}}}
            """);
        WriteTinyVae(directory, files, shapes, spec.Seed, scalingFactor: "0.13025");
        files.AddRange(WriteCommon(spec, directory, tokenizer));
        return Result(directory, files, tokenizer);
    }

    private static void TinyModel(string directory, List<string> files, string part, OnnxGraph graph, string config)
    {
        Directory.CreateDirectory(Path.Combine(directory, part));
        OnnxModelWriter.Write(graph, Path.Combine(directory, part, "model.onnx"), new OnnxWriteOptions { ProducerName = "capa testmodel" });
        File.WriteAllText(Path.Combine(directory, part, "config.json"), config);
        files.Add(part + "/model.onnx");
        files.Add(part + "/config.json");
    }

    private static void WriteTinyVae(string directory, List<string> files, DiffusionTestShapes shapes, ulong seed, string scalingFactor)
    {
        string vae = $$"""
            {"_class_name": "AutoencoderKL", "latent_channels": 4, "scaling_factor": {{scalingFactor}}, "block_out_channels": [16, 16, 16, 16], "sample_size": 64}
            """;
        TinyModel(directory, files, "vae_decoder", DiffusionGraphs.VaeDecoder(shapes, seed), vae);
        TinyModel(directory, files, "vae_encoder", DiffusionGraphs.VaeEncoder(shapes, seed), vae);
    }

    private static string TextEncoderConfig(string architecture, DiffusionTestShapes shapes, TextEncoderShape encoder) => $$"""
        {"architectures": ["{{architecture}}"], "model_type": "clip_text_model", "hidden_size": {{encoder.HiddenSize}}, "max_position_embeddings": 77, "vocab_size": {{shapes.VocabSize}}, "num_hidden_layers": {{encoder.Layers}}{{(encoder.Projection is int p ? $", \"projection_dim\": {p}" : "")}}}
        """;

    private static TestModelResult Result(string directory, List<string> files, ClipTestTokenizer tokenizer)
    {
        files.Sort(StringComparer.Ordinal);
        long total = files.Sum(f => new FileInfo(Path.Combine(directory, f)).Length);
        return new TestModelResult(directory, files, total, tokenizer.Count);
    }

    /// <summary>
    /// The parameter count of each SD-Turbo network as <see cref="DiffusionTestSize.SdTurbo"/> writes it, read from the
    /// graphs without producing any weight.
    /// </summary>
    public static IReadOnlyDictionary<string, long> SdTurboParameterCounts(bool int64Timestep = false)
    {
        var shapes = new SdTurboShapes();
        static long Count(OnnxGraph graph) => graph.Initializers.Where(i => i.Dims.Count > 0 && !i.Name.EndsWith(".group_scale", StringComparison.Ordinal)
            && !i.Name.EndsWith(".group_bias", StringComparison.Ordinal) && !i.Name.EndsWith(".frequencies", StringComparison.Ordinal)
            && !i.Name.EndsWith(".scales", StringComparison.Ordinal) && !i.Name.EndsWith("causal_attention_mask", StringComparison.Ordinal)
            && i.DataType == OnnxDataType.Float).Sum(i => i.Dims.Aggregate(1L, (a, b) => a * b));
        return new Dictionary<string, long>
        {
            ["text_encoder"] = Count(SdTurboGraphs.TextEncoder(shapes, 0)),
            ["unet"] = Count(SdTurboGraphs.Unet(shapes, 0, int64Timestep)),
            ["vae_decoder"] = Count(SdTurboGraphs.VaeDecoder(shapes, 0)),
            ["vae_encoder"] = Count(SdTurboGraphs.VaeEncoder(shapes, 0)),
        };
    }

    private static TestModelResult WriteSdTurbo(DiffusionTestModelSpec spec, string directory)
    {
        ClipTestTokenizer tokenizer = ClipTestTokenizer.Instance;
        var shapes = new SdTurboShapes();
        var files = new List<string>();
        void Model(string part, OnnxGraph graph, string config)
        {
            // Weights go to model.onnx_data beside each graph, written one tensor at a time.
            var options = new OnnxWriteOptions { ProducerName = "capa testmodel", ExternalDataFileName = "model.onnx_data" };
            Directory.CreateDirectory(Path.Combine(directory, part));
            OnnxModelWriter.Write(graph, Path.Combine(directory, part, "model.onnx"), options);
            File.WriteAllText(Path.Combine(directory, part, "config.json"), config);
            files.Add(part + "/model.onnx");
            files.Add(part + "/model.onnx_data");
            files.Add(part + "/config.json");
        }

        Model("text_encoder", SdTurboGraphs.TextEncoder(shapes, spec.Seed), $$"""
            {"architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "hidden_act": "gelu", "hidden_size": {{shapes.TextHidden}}, "intermediate_size": {{shapes.TextIntermediate}}, "max_position_embeddings": {{shapes.TextLength}}, "num_attention_heads": 16, "num_hidden_layers": {{shapes.TextLayers}}, "projection_dim": 512, "torch_dtype": "float32", "vocab_size": {{shapes.TextVocab}}}
            """);
        Model("unet", SdTurboGraphs.Unet(shapes, spec.Seed, spec.Int64Timestep), """
            {"_class_name": "UNet2DConditionModel", "act_fn": "silu", "attention_head_dim": [5, 10, 20, 20], "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false, "cross_attention_dim": 1024, "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"], "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2, "mid_block_type": "UNetMidBlock2DCrossAttn", "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64, "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"], "upcast_attention": true, "use_linear_projection": true}
            """);
        const string Vae = """
            {"_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512], "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"], "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3, "sample_size": 768, "scaling_factor": 0.18215, "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]}
            """;
        Model("vae_decoder", SdTurboGraphs.VaeDecoder(shapes, spec.Seed), Vae);
        Model("vae_encoder", SdTurboGraphs.VaeEncoder(shapes, spec.Seed), Vae);
        files.AddRange(WriteCommon(spec, directory, tokenizer));
        File.WriteAllText(Path.Combine(directory, "README.md"), """
            # SD-Turbo shapes, random weights

            Written by `capa testmodel --arch sd --size sd-turbo` for benchmarks: Stable Diffusion 2.1 base's networks at their
            real shapes in float32 (as Optimum's CPU export), random weights, so images are noise. Text encoder: OpenCLIP
            ViT-H, 1024 wide, 23 layers (the ones SD 2 reads), 16 heads, 77 tokens. UNet: blocks 320/640/1280/1280, two
            ResNets per down block and three per up block, one cross-attention transformer per attention block (linear
            projections, heads of 64, 1024-d context, GEGLU feed-forward), 865.9 M parameters. VAE: 128/256/512/512.

            What differs from the published export: the tokenizer is a small CLIP-layout test tokenizer (the embedding table
            keeps CLIP's 49408 rows); the VAE encoder returns the distribution's mean and log-variance (`latent_parameters`,
            as Optimum), the pipeline uses the mean; weights are random. Operators and FLOPs are the real network's.
            """);
        files.Add("README.md");
        files.Sort(StringComparer.Ordinal);
        long total = files.Sum(f => new FileInfo(Path.Combine(directory, f)).Length);
        return new TestModelResult(directory, files, total, tokenizer.Count);
    }

    private static List<string> WriteCommon(DiffusionTestModelSpec spec, string directory, ClipTestTokenizer tokenizer)
    {
        var files = new List<string>();
        bool xl = spec.Architecture == DiffusionTestArchitecture.StableDiffusionXl;
        Directory.CreateDirectory(Path.Combine(directory, "scheduler"));
        File.WriteAllText(Path.Combine(directory, "scheduler", "scheduler_config.json"), spec.SchedulerConfigJson ?? (xl ? XlTurboSchedulerConfig : TurboSchedulerConfig));
        files.Add("scheduler/scheduler_config.json");
        if (xl)
        {
            // SDXL's first tokenizer (CLIP ViT-L's) pads with <|endoftext|>, the second (OpenCLIP bigG's) with "!".
            files.AddRange(tokenizer.Write(Path.Combine(directory, "tokenizer"), padToken: "<|endoftext|>"));
            files.AddRange(tokenizer.Write(Path.Combine(directory, "tokenizer_2"), padToken: "!"));
            File.WriteAllText(Path.Combine(directory, "model_index.json"), """
                {
                  "_class_name": "StableDiffusionXLPipeline",
                  "_diffusers_version": "0.24.0.dev0",
                  "feature_extractor": [null, null],
                  "force_zeros_for_empty_prompt": true,
                  "image_encoder": [null, null],
                  "scheduler": ["diffusers", "EulerAncestralDiscreteScheduler"],
                  "text_encoder": ["transformers", "CLIPTextModel"],
                  "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
                  "tokenizer": ["transformers", "CLIPTokenizer"],
                  "tokenizer_2": ["transformers", "CLIPTokenizer"],
                  "unet": ["diffusers", "UNet2DConditionModel"],
                  "vae": ["diffusers", "AutoencoderKL"]
                }
                """);
            files.Add("model_index.json");
            return files;
        }

        files.AddRange(tokenizer.Write(Path.Combine(directory, "tokenizer"), padToken: "!"));
        File.WriteAllText(Path.Combine(directory, "model_index.json"), """
            {
              "_class_name": "OnnxStableDiffusionPipeline",
              "_diffusers_version": "0.24.0",
              "feature_extractor": [null, null],
              "requires_safety_checker": false,
              "safety_checker": [null, null],
              "scheduler": ["diffusers", "EulerDiscreteScheduler"],
              "text_encoder": ["diffusers", "OnnxRuntimeModel"],
              "tokenizer": ["transformers", "CLIPTokenizer"],
              "unet": ["diffusers", "OnnxRuntimeModel"],
              "vae_decoder": ["diffusers", "OnnxRuntimeModel"],
              "vae_encoder": ["diffusers", "OnnxRuntimeModel"]
            }
            """);
        files.Add("model_index.json");
        return files;
    }
}
