using System.Text.Json;

namespace Capa.Engine.Images.Schedulers;

/// <summary>The fields of diffusers' <c>scheduler/scheduler_config.json</c> that the schedulers here read.</summary>
public sealed record SchedulerConfig
{
    /// <summary><c>_class_name</c>, e.g. <c>EulerDiscreteScheduler</c>.</summary>
    public string ClassName { get; init; } = "EulerDiscreteScheduler";

    public int NumTrainTimesteps { get; init; } = 1000;

    public double BetaStart { get; init; } = 0.00085;

    public double BetaEnd { get; init; } = 0.012;

    /// <summary><c>scaled_linear</c> (SD), <c>linear</c> or <c>squaredcos_cap_v2</c>.</summary>
    public string BetaSchedule { get; init; } = "scaled_linear";

    /// <summary><c>epsilon</c>, <c>v_prediction</c> or <c>sample</c>.</summary>
    public string PredictionType { get; init; } = "epsilon";

    /// <summary><c>leading</c>, <c>linspace</c> or <c>trailing</c>; null for the class's default.</summary>
    public string? TimestepSpacing { get; init; }

    public int StepsOffset { get; init; }

    /// <summary>DDIM and LCM: whether the step past the last uses alpha 1 (else alphas_cumprod[0]).</summary>
    public bool SetAlphaToOne { get; init; } = true;

    /// <summary>DDIM and LCM: whether predicted samples are clipped to ±<see cref="ClipSampleRange"/>.</summary>
    public bool? ClipSample { get; init; }

    public double ClipSampleRange { get; init; } = 1.0;

    /// <summary>LCM: the schedule it was distilled with.</summary>
    public int OriginalInferenceSteps { get; init; } = 50;

    /// <summary>LCM: the boundary condition's timestep scaling.</summary>
    public double TimestepScaling { get; init; } = 10.0;

    /// <summary>Explicit betas, when the config lists them.</summary>
    public IReadOnlyList<double>? TrainedBetas { get; init; }

    /// <summary>Reads a config file; absent fields keep diffusers' defaults.</summary>
    public static SchedulerConfig FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true });
        JsonElement root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("scheduler_config.json must hold an object.");
        }

        var defaults = new SchedulerConfig();
        return new SchedulerConfig
        {
            ClassName = String(root, "_class_name") ?? defaults.ClassName,
            NumTrainTimesteps = Int(root, "num_train_timesteps") ?? defaults.NumTrainTimesteps,
            BetaStart = Double(root, "beta_start") ?? defaults.BetaStart,
            BetaEnd = Double(root, "beta_end") ?? defaults.BetaEnd,
            BetaSchedule = String(root, "beta_schedule") ?? defaults.BetaSchedule,
            PredictionType = String(root, "prediction_type") ?? defaults.PredictionType,
            TimestepSpacing = String(root, "timestep_spacing"),
            StepsOffset = Int(root, "steps_offset") ?? 0,
            SetAlphaToOne = Bool(root, "set_alpha_to_one") ?? true,
            ClipSample = Bool(root, "clip_sample"),
            ClipSampleRange = Double(root, "clip_sample_range") ?? 1.0,
            OriginalInferenceSteps = Int(root, "original_inference_steps") ?? 50,
            TimestepScaling = Double(root, "timestep_scaling") ?? 10.0,
            TrainedBetas = root.TryGetProperty("trained_betas", out var betas) && betas.ValueKind == JsonValueKind.Array
                ? [.. betas.EnumerateArray().Select(b => b.GetDouble())]
                : null,
        };
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : null;

    private static double? Double(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static bool? Bool(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
}
