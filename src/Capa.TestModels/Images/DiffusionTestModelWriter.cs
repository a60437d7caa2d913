using Capa.Models.Onnx;

namespace Capa.TestModels.Images;

/// <summary>Sizes of random-weight diffusion folders.</summary>
public enum DiffusionTestSize
{
    /// <summary>64×64 native (8×8 latents), a few thousand weights: a generation takes milliseconds.</summary>
    Tiny,
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

    /// <summary>The scheduler_config.json to write; null for SD-Turbo's (Euler, trailing spacing).</summary>
    public string? SchedulerConfigJson { get; init; }

    /// <summary>Parses a size name (<c>tiny</c>).</summary>
    public static DiffusionTestSize ParseSize(string value) => value?.Trim().ToLowerInvariant() switch
    {
        "tiny" => DiffusionTestSize.Tiny,
        _ => throw new ArgumentException($"Unknown Stable Diffusion size '{value}'. Expected tiny.", nameof(value)),
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
        Model("unet", DiffusionGraphs.Unet(shapes, spec.Seed, spec.Int64Timestep), $$"""
            {"_class_name": "UNet2DConditionModel", "sample_size": {{shapes.SampleSize}}, "in_channels": 4, "out_channels": 4, "block_out_channels": [{{shapes.UnetChannels}}], "cross_attention_dim": {{shapes.HiddenSize}}}
            """);
        const string Vae = """
            {"_class_name": "AutoencoderKL", "latent_channels": 4, "scaling_factor": 0.18215, "block_out_channels": [16, 16, 16, 16], "sample_size": 64}
            """;
        Model("vae_decoder", DiffusionGraphs.VaeDecoder(shapes, spec.Seed), Vae);
        Model("vae_encoder", DiffusionGraphs.VaeEncoder(shapes, spec.Seed), Vae);
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
        files.Sort(StringComparer.Ordinal);
        long total = files.Sum(f => new FileInfo(Path.Combine(directory, f)).Length);
        return new TestModelResult(directory, files, total, tokenizer.Count);
    }
}
