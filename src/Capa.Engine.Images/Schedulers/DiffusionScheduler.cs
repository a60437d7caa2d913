using Capa.Engine.Images.Noise;

namespace Capa.Engine.Images.Schedulers;

/// <summary>
/// One sampling schedule of a diffusion model, set for a number of steps: the timesteps fed to the UNet, how the model
/// input is scaled, and how one UNet output moves the latents. Implementations follow diffusers' formulas.
/// </summary>
public abstract class DiffusionScheduler
{
    /// <summary>Creates the scheduler <paramref name="config"/> names, set for <paramref name="steps"/> steps.</summary>
    /// <exception cref="NotSupportedException">The class or an option is not one implemented here.</exception>
    public static DiffusionScheduler Create(SchedulerConfig config, int steps)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(steps, config.NumTrainTimesteps);
        if (config.PredictionType is not ("epsilon" or "v_prediction" or "sample"))
        {
            throw new NotSupportedException($"prediction_type '{config.PredictionType}' is not supported.");
        }

        return config.ClassName switch
        {
            "EulerDiscreteScheduler" => new EulerDiscreteScheduler(config, steps, ancestral: false),
            "EulerAncestralDiscreteScheduler" => new EulerDiscreteScheduler(config, steps, ancestral: true),
            "DDIMScheduler" => new DdimScheduler(config, steps),
            "LCMScheduler" => new LcmScheduler(config, steps),
            // Pipelines exported with these run as well with DDIM's deterministic update on the same timesteps.
            "PNDMScheduler" or "DDPMScheduler" or "DPMSolverMultistepScheduler" or "LMSDiscreteScheduler" => new DdimScheduler(config, steps),
            _ => throw new NotSupportedException($"Scheduler '{config.ClassName}' is not supported (Euler, Euler ancestral, DDIM and LCM are)."),
        };
    }

    /// <summary>The timesteps fed to the UNet, one per step.</summary>
    public abstract IReadOnlyList<float> Timesteps { get; }

    /// <summary>The factor the initial noise is multiplied by.</summary>
    public abstract float InitNoiseSigma { get; }

    /// <summary>The factor the latents are multiplied by before the UNet at <paramref name="stepIndex"/>.</summary>
    public abstract float InputScale(int stepIndex);

    /// <summary>
    /// Moves <paramref name="sample"/> (in place) by one step from the model's output; ancestral and consistency steps draw
    /// fresh noise from <paramref name="generator"/>. <paramref name="denoised"/> receives the step's estimate of the clean latents.
    /// </summary>
    public abstract void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, Span<float> denoised, TorchGenerator generator);

    /// <summary>Noises clean latents to the level of <paramref name="stepIndex"/> (img2img and inpainting), in place.</summary>
    public abstract void AddNoise(Span<float> original, ReadOnlySpan<float> noise, int stepIndex);

    /// <summary>The last steps only, for img2img at <paramref name="strength"/> (1 = all steps): the index of the first step run.</summary>
    public int FirstStepFor(double strength)
    {
        int steps = Timesteps.Count;
        int init = Math.Min((int)(steps * strength), steps);
        return Math.Min(steps - init, steps - 1);
    }

    /// <summary>x0 from the model output at a noise level given as sigma (the Euler family's parameterisation).</summary>
    protected static float PredictOriginalFromSigma(string predictionType, float sample, float output, float sigma) => predictionType switch
    {
        "v_prediction" => (output * (-sigma / MathF.Sqrt((sigma * sigma) + 1))) + (sample / ((sigma * sigma) + 1)),
        "sample" => output,
        _ => sample - (sigma * output),
    };
}
