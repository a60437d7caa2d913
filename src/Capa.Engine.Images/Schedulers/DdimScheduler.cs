using Capa.Engine.Images.Noise;

namespace Capa.Engine.Images.Schedulers;

/// <summary>diffusers' <c>DDIMScheduler</c> with eta 0 (deterministic): x_{t−1} = √ᾱ_{prev}·x̂₀ + √(1 − ᾱ_{prev})·ε̂.</summary>
public sealed class DdimScheduler : DiffusionScheduler
{
    private readonly SchedulerConfig _config;
    private readonly float[] _alphas;
    private readonly float[] _timesteps;
    private readonly float _finalAlpha;
    private readonly int _stepRatio;

    internal DdimScheduler(SchedulerConfig config, int steps)
    {
        _config = config;
        _alphas = NoiseSchedule.AlphasCumprod(config);
        _finalAlpha = config.SetAlphaToOne ? 1f : _alphas[0];
        int n = config.NumTrainTimesteps;
        _stepRatio = n / steps;
        string spacing = config.TimestepSpacing ?? "leading";
        _timesteps = spacing switch
        {
            "leading" => [.. Enumerable.Range(0, steps).Select(i => (float)((i * _stepRatio) + config.StepsOffset)).Reverse()],
            "trailing" => [.. EulerDiscreteScheduler.Trailing(n, steps).Select(t => (float)t)],
            "linspace" => [.. EulerDiscreteScheduler.LinspaceDescending(0, n - 1, steps).Select(t => (float)Math.Round(t, MidpointRounding.ToEven))],
            _ => throw new NotSupportedException($"timestep_spacing '{spacing}' is not supported (linspace, leading, trailing are)."),
        };
    }

    /// <inheritdoc />
    public override IReadOnlyList<float> Timesteps => _timesteps;

    /// <inheritdoc />
    public override float InitNoiseSigma => 1;

    /// <inheritdoc />
    public override float InputScale(int stepIndex) => 1;

    /// <inheritdoc />
    public override void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, Span<float> denoised, TorchGenerator generator)
    {
        int t = (int)_timesteps[stepIndex];
        int previous = t - _stepRatio;
        float alpha = _alphas[t];
        float alphaPrevious = previous >= 0 ? _alphas[previous] : _finalAlpha;
        float beta = 1 - alpha;
        float sqrtAlpha = MathF.Sqrt(alpha), sqrtBeta = MathF.Sqrt(beta);
        float sqrtAlphaPrevious = MathF.Sqrt(alphaPrevious), sqrtBetaPrevious = MathF.Sqrt(1 - alphaPrevious);
        bool clip = _config.ClipSample ?? true;
        float range = (float)_config.ClipSampleRange;
        for (int i = 0; i < sample.Length; i++)
        {
            float x = sample[i], o = modelOutput[i];
            (float x0, float eps) = _config.PredictionType switch
            {
                "v_prediction" => ((sqrtAlpha * x) - (sqrtBeta * o), (sqrtAlpha * o) + (sqrtBeta * x)),
                "sample" => (o, (x - (sqrtAlpha * o)) / sqrtBeta),
                _ => ((x - (sqrtBeta * o)) / sqrtAlpha, o),
            };
            if (clip)
            {
                x0 = Math.Clamp(x0, -range, range);
            }

            denoised[i] = x0;
            sample[i] = (sqrtAlphaPrevious * x0) + (sqrtBetaPrevious * eps);
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
