namespace Capa.Engine.Images.Schedulers;

/// <summary>
/// The training noise schedule of diffusers' schedulers: betas (<c>scaled_linear</c>: a float32 linspace of square roots,
/// squared; <c>linear</c>; <c>squaredcos_cap_v2</c>), alphas = 1 − betas and their cumulative product (accumulated in
/// double and stored in float32, as torch's CPU cumprod does).
/// </summary>
public static class NoiseSchedule
{
    /// <summary>alphas_cumprod for <paramref name="config"/>.</summary>
    public static float[] AlphasCumprod(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        float[] betas = Betas(config);
        var result = new float[betas.Length];
        double product = 1;
        for (int i = 0; i < betas.Length; i++)
        {
            product *= 1f - betas[i];
            result[i] = (float)product;
        }

        return result;
    }

    /// <summary>The betas, float32.</summary>
    public static float[] Betas(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int n = config.NumTrainTimesteps;
        if (config.TrainedBetas is { } trained)
        {
            return [.. trained.Select(b => (float)b)];
        }

        switch (config.BetaSchedule)
        {
            case "linear":
                return Linspace((float)config.BetaStart, (float)config.BetaEnd, n);
            case "scaled_linear":
                float[] roots = Linspace((float)Math.Sqrt(config.BetaStart), (float)Math.Sqrt(config.BetaEnd), n);
                for (int i = 0; i < n; i++)
                {
                    roots[i] *= roots[i];
                }

                return roots;
            case "squaredcos_cap_v2":
                var betas = new float[n];
                static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
                for (int i = 0; i < n; i++)
                {
                    double t1 = (double)i / n, t2 = (double)(i + 1) / n;
                    betas[i] = (float)Math.Min(1 - (AlphaBar(t2) / AlphaBar(t1)), 0.999);
                }

                return betas;
            default:
                throw new NotSupportedException($"beta_schedule '{config.BetaSchedule}' is not supported (linear, scaled_linear, squaredcos_cap_v2 are).");
        }
    }

    /// <summary>torch.linspace in float32: the first half counted up from the start, the second down from the end.</summary>
    public static float[] Linspace(float start, float end, int steps)
    {
        var values = new float[steps];
        if (steps == 1)
        {
            values[0] = start;
            return values;
        }

        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++)
        {
            values[i] = i < halfway ? start + (step * i) : end - (step * (steps - i - 1));
        }

        return values;
    }
}
