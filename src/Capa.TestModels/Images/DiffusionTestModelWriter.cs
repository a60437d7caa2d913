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

/// <summary>What <see cref="DiffusionTestModelWriter.Write"/> generates. The same spec always yields the same bytes.</summary>
public sealed record DiffusionTestModelSpec
{
    /// <summary>The size.</summary>
    public DiffusionTestSize Size { get; init; } = DiffusionTestSize.Tiny;

    /// <summary>Seed of the weights' pseudo-random generator.</summary>
    public ulong Seed { get; init; }

    /// <summary>The UNet's timestep as diffusers' legacy export declares it (int64 [batch]) instead of Optimum's float scalar.</summary>
    public bool Int64Timestep { get; init; }

    /// <summary>An inpainting UNet (9 input channels: latents, mask, masked image's latents), as SD inpainting models have.</summary>
    public bool Inpainting { get; init; }

    /// <summary>The scheduler_config.json to write; null for SD-Turbo's (Euler, trailing spacing).</summary>
    public string? SchedulerConfigJson { get; init; }

    /// <summary>Parses a size name (<c>tiny</c>, <c>sd-turbo</c>).</summary>
    public static DiffusionTestSize ParseSize(string value) => value?.Trim().ToLowerInvariant() switch
    {
        "tiny" => DiffusionTestSize.Tiny,
        "sd-turbo" => DiffusionTestSize.SdTurbo,
        _ => throw new ArgumentException($"Unknown Stable Diffusion size '{value}'. Expected tiny or sd-turbo.", nameof(value)),
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

    /// <summary>Writes the folder described by <paramref name="spec"/> into <paramref name="directory"/> (created if missing).</summary>
    public static TestModelResult Write(DiffusionTestModelSpec spec, string directory)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (spec.Size == DiffusionTestSize.SdTurbo)
        {
            return WriteSdTurbo(spec, directory);
        }

        ClipTestTokenizer tokenizer = ClipTestTokenizer.Instance;
        var shapes = new DiffusionTestShapes { VocabSize = tokenizer.Count };
        var options = new OnnxWriteOptions { ProducerName = "capa testmodel" };
        var files = new List<string>();
        void Model(string part, OnnxGraph graph, string config)
        {
            Directory.CreateDirectory(Path.Combine(directory, part));
            OnnxModelWriter.Write(graph, Path.Combine(directory, part, "model.onnx"), options);
            File.WriteAllText(Path.Combine(directory, part, "config.json"), config);
            files.Add(part + "/model.onnx");
            files.Add(part + "/config.json");
        }

        Model("text_encoder", DiffusionGraphs.TextEncoder(shapes, spec.Seed), $$"""
            {"architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "hidden_size": {{shapes.HiddenSize}}, "max_position_embeddings": 77, "vocab_size": {{shapes.VocabSize}}, "num_hidden_layers": 1}
            """);
        Model("unet", DiffusionGraphs.Unet(shapes, spec.Seed, spec.Int64Timestep, spec.Inpainting), $$"""
            {"_class_name": "UNet2DConditionModel", "sample_size": {{shapes.SampleSize}}, "in_channels": {{(spec.Inpainting ? 9 : 4)}}, "out_channels": 4, "block_out_channels": [{{shapes.UnetChannels}}], "cross_attention_dim": {{shapes.HiddenSize}}}
            """);
        const string Vae = """
            {"_class_name": "AutoencoderKL", "latent_channels": 4, "scaling_factor": 0.18215, "block_out_channels": [16, 16, 16, 16], "sample_size": 64}
            """;
        Model("vae_decoder", DiffusionGraphs.VaeDecoder(shapes, spec.Seed), Vae);
        Model("vae_encoder", DiffusionGraphs.VaeEncoder(shapes, spec.Seed), Vae);
        files.AddRange(WriteCommon(spec, directory, tokenizer));
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
        Directory.CreateDirectory(Path.Combine(directory, "scheduler"));
        File.WriteAllText(Path.Combine(directory, "scheduler", "scheduler_config.json"), spec.SchedulerConfigJson ?? TurboSchedulerConfig);
        files.Add("scheduler/scheduler_config.json");
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
