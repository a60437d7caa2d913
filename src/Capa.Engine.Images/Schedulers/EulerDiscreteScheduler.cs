using Capa.Engine.Images.Noise;

namespace Capa.Engine.Images.Schedulers;

/// <summary>
/// diffusers' <c>EulerDiscreteScheduler</c> and <c>EulerAncestralDiscreteScheduler</c> (no churn, linear sigma
/// interpolation): sigmas √((1 − ᾱ)/ᾱ) at the chosen timesteps and a final 0, model input divided by √(σ² + 1).
/// </summary>
public sealed class EulerDiscreteScheduler : DiffusionScheduler
{
    private readonly SchedulerConfig _config;
    private readonly bool _ancestral;
    private readonly float[] _timesteps;

    internal EulerDiscreteScheduler(SchedulerConfig config, int steps, bool ancestral)
    {
        _config = config;
        _ancestral = ancestral;
        float[] alphas = NoiseSchedule.AlphasCumprod(config);
        int n = config.NumTrainTimesteps;
        string spacing = config.TimestepSpacing ?? "linspace";
        double[] timesteps = spacing switch
        {
            "linspace" => LinspaceDescending(0, n - 1, steps),
            "leading" => [.. Enumerable.Range(0, steps).Select(i => (double)((i * (n / steps)) + config.StepsOffset)).Reverse()],
            "trailing" => Trailing(n, steps),
            _ => throw new NotSupportedException($"timestep_spacing '{spacing}' is not supported (linspace, leading, trailing are)."),
        };
        var trainSigmas = new float[n];
        for (int i = 0; i < n; i++)
        {
            trainSigmas[i] = MathF.Sqrt((1 - alphas[i]) / alphas[i]);
        }

        Sigmas = new float[steps + 1];
        _timesteps = new float[steps];
        for (int i = 0; i < steps; i++)
        {
            _timesteps[i] = (float)timesteps[i];
            Sigmas[i] = (float)Interp(timesteps[i], trainSigmas);
        }

        Sigmas[steps] = 0;
        float max = Sigmas.Max();
        InitNoiseSigma = spacing is "linspace" or "trailing" ? max : MathF.Sqrt((max * max) + 1);
    }

    /// <summary>The sigma of each step and a final 0.</summary>
    public float[] Sigmas { get; }

    /// <inheritdoc />
    public override IReadOnlyList<float> Timesteps => _timesteps;

    /// <inheritdoc />
    public override float InitNoiseSigma { get; }

    /// <inheritdoc />
    public override float InputScale(int stepIndex) => 1 / MathF.Sqrt((Sigmas[stepIndex] * Sigmas[stepIndex]) + 1);

    /// <inheritdoc />
    public override void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, Span<float> denoised, TorchGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        float sigma = Sigmas[stepIndex];
        float next = Sigmas[stepIndex + 1];
        float dt, up = 0;
        if (_ancestral)
        {
            float up2 = next * next * ((sigma * sigma) - (next * next)) / (sigma * sigma);
            up = MathF.Sqrt(up2);
            float down = MathF.Sqrt((next * next) - (up * up));
            dt = down - sigma;
        }
        else
        {
            dt = next - sigma;
        }

        for (int i = 0; i < sample.Length; i++)
        {
            float x0 = PredictOriginalFromSigma(_config.PredictionType, sample[i], modelOutput[i], sigma);
            denoised[i] = x0;
            float derivative = (sample[i] - x0) / sigma;
            sample[i] += derivative * dt;
        }

        if (_ancestral)
        {
            // Noise is drawn even when its scale is 0 (the last step), as diffusers does, so the stream stays aligned.
            float[] noise = generator.Randn(sample.Length);
            for (int i = 0; i < sample.Length; i++)
            {
                sample[i] += noise[i] * up;
            }
        }
    }

    /// <inheritdoc />
    public override void AddNoise(Span<float> original, ReadOnlySpan<float> noise, int stepIndex)
    {
        float sigma = Sigmas[stepIndex];
        for (int i = 0; i < original.Length; i++)
        {
            original[i] += noise[i] * sigma;
        }
    }

    internal static double[] LinspaceDescending(double start, double end, int steps)
    {
        // np.linspace(start, end, steps)[::-1]: i * step + start, the last value exactly end.
        var values = new double[steps];
        double step = steps == 1 ? 0 : (end - start) / (steps - 1);
        for (int i = 0; i < steps; i++)
        {
            values[steps - 1 - i] = i == steps - 1 && steps > 1 ? end : (i * step) + start;
        }

        return values;
    }

    internal static double[] Trailing(int n, int steps)
    {
        // np.arange(n, 0, -n / steps).round() - 1
        double ratio = (double)n / steps;
        var values = new double[steps];
        for (int k = 0; k < steps; k++)
        {
            values[k] = Math.Round(n + (k * -ratio), MidpointRounding.ToEven) - 1;
        }

        return values;
    }

    private static double Interp(double x, float[] table)
    {
        if (x <= 0)
        {
            return table[0];
        }

        if (x >= table.Length - 1)
        {
            return table[^1];
        }

        int i = (int)Math.Floor(x);
        double f = x - i;
        return f == 0 ? table[i] : table[i] + ((table[i + 1] - (double)table[i]) * f);
    }
}
