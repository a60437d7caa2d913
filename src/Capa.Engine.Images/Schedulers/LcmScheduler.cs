using Capa.Engine.Images.Noise;

namespace Capa.Engine.Images.Schedulers;

/// <summary>
/// diffusers' <c>LCMScheduler</c>: timesteps picked from the distillation schedule (<c>original_inference_steps</c>), the
/// consistency boundary condition (c_skip, c_out with σ_data 0.5 and <c>timestep_scaling</c>), and fresh noise between steps.
/// </summary>
public sealed class LcmScheduler : DiffusionScheduler
{
    private readonly SchedulerConfig _config;
    private readonly float[] _alphas;
    private readonly float[] _timesteps;
    private readonly float _finalAlpha;

    internal LcmScheduler(SchedulerConfig config, int steps)
    {
        _config = config;
        _alphas = NoiseSchedule.AlphasCumprod(config);
        _finalAlpha = config.SetAlphaToOne ? 1f : _alphas[0];
        int n = config.NumTrainTimesteps;
        int original = config.OriginalInferenceSteps;
        if (steps > original)
        {
            throw new NotSupportedException($"An LCM model takes at most {original} steps (original_inference_steps).");
        }

        int c = n / original;
        int[] origin = [.. Enumerable.Range(1, original).Select(i => (i * c) - 1)];
        Array.Reverse(origin);
        _timesteps = new float[steps];
        for (int i = 0; i < steps; i++)
        {
            // np.floor(np.linspace(0, len(origin), steps, endpoint=False))
            int index = (int)Math.Floor(i * ((double)origin.Length / steps));
            _timesteps[i] = origin[index];
        }
    }

    /// <inheritdoc />
    public override IReadOnlyList<float> Timesteps => _timesteps;

    /// <inheritdoc />
    public override float InitNoiseSigma => 1;

    /// <inheritdoc />
    public override float InputScale(int stepIndex) => 1;

    /// <summary>The boundary-condition scalings at timestep <paramref name="t"/>.</summary>
    public (float CSkip, float COut) Scalings(float t)
    {
        const double SigmaData = 0.5;
        double scaled = t * _config.TimestepScaling;
        double cSkip = SigmaData * SigmaData / ((scaled * scaled) + (SigmaData * SigmaData));
        double cOut = scaled / Math.Sqrt((scaled * scaled) + (SigmaData * SigmaData));
        return ((float)cSkip, (float)cOut);
    }

    /// <inheritdoc />
    public override void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, Span<float> denoised, TorchGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        int t = (int)_timesteps[stepIndex];
        bool last = stepIndex == _timesteps.Length - 1;
        int previous = last ? t : (int)_timesteps[stepIndex + 1];
        float alpha = _alphas[t];
        float alphaPrevious = previous >= 0 ? _alphas[previous] : _finalAlpha;
        float sqrtAlpha = MathF.Sqrt(alpha), sqrtBeta = MathF.Sqrt(1 - alpha);
        var (cSkip, cOut) = Scalings(t);
        bool clip = _config.ClipSample ?? false;
        float range = (float)_config.ClipSampleRange;
        for (int i = 0; i < sample.Length; i++)
        {
            float x = sample[i], o = modelOutput[i];
            float x0 = _config.PredictionType switch
            {
                "v_prediction" => (sqrtAlpha * x) - (sqrtBeta * o),
                "sample" => o,
                _ => (x - (sqrtBeta * o)) / sqrtAlpha,
            };
            if (clip)
            {
                x0 = Math.Clamp(x0, -range, range);
            }

            denoised[i] = (cOut * x0) + (cSkip * x);
        }

        if (last)
        {
            denoised.CopyTo(sample);
            return;
        }

        float[] noise = generator.Randn(sample.Length);
        float a = MathF.Sqrt(alphaPrevious), b = MathF.Sqrt(1 - alphaPrevious);
        for (int i = 0; i < sample.Length; i++)
        {
            sample[i] = (a * denoised[i]) + (b * noise[i]);
        }
    }

    /// <inheritdoc />
    public override void AddNoise(Span<float> original, ReadOnlySpan<float> noise, int stepIndex)
    {
        float alpha = _alphas[(int)_timesteps[stepIndex]];
        float a = MathF.Sqrt(alpha), b = MathF.Sqrt(1 - alpha);
        for (int i = 0; i < original.Length; i++)
        {
            original[i] = (a * original[i]) + (b * noise[i]);
        }
    }
}
