using Capa.Engine.Images.Noise;
using Capa.Engine.Images.Schedulers;

namespace Capa.Engine.Images.Tests.Schedulers;

public sealed class SchedulerTests
{
    private static readonly SchedulerConfig StableDiffusion = new()
    {
        ClassName = "EulerDiscreteScheduler",
        BetaStart = 0.00085,
        BetaEnd = 0.012,
        BetaSchedule = "scaled_linear",
        StepsOffset = 1,
        SetAlphaToOne = false,
        ClipSample = false,
    };

    /// <summary>ᾱ computed independently in double: betas = linspace(√β₀, √β₁, 1000)², cumulative product of 1 − β.</summary>
    private static double[] AlphasCumprodInDouble()
    {
        var result = new double[1000];
        double a = Math.Sqrt(0.00085), b = Math.Sqrt(0.012), product = 1;
        for (int i = 0; i < 1000; i++)
        {
            double root = a + ((b - a) * i / 999);
            product *= 1 - (root * root);
            result[i] = product;
        }

        return result;
    }

    [Fact]
    public void Alphas_cumprod_follow_the_scaled_linear_schedule()
    {
        float[] alphas = NoiseSchedule.AlphasCumprod(StableDiffusion);
        double[] expected = AlphasCumprodInDouble();
        Assert.Equal(1000, alphas.Length);
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(expected[i], alphas[i], expected[i] * 1e-5);
        }

        // diffusers' published endpoints for SD: sigma_min 0.0292, sigma_max 14.6146.
        Assert.Equal(0.99915, alphas[0], 1e-7);
        Assert.Equal(0.0292, Math.Sqrt((1 - alphas[0]) / alphas[0]), 1e-4);
        Assert.Equal(14.6146, Math.Sqrt((1 - alphas[999]) / alphas[999]), 1e-3);
    }

    [Theory]
    [InlineData("trailing", 1, new float[] { 999 })]
    [InlineData("trailing", 4, new float[] { 999, 749, 499, 249 })]
    [InlineData("leading", 4, new float[] { 751, 501, 251, 1 })]
    [InlineData("linspace", 4, new float[] { 999, 666, 333, 0 })]
    public void Euler_timesteps_follow_the_spacing(string spacing, int steps, float[] expected)
    {
        var scheduler = (EulerDiscreteScheduler)DiffusionScheduler.Create(StableDiffusion with { TimestepSpacing = spacing }, steps);
        Assert.Equal(expected, scheduler.Timesteps);
        Assert.Equal(steps + 1, scheduler.Sigmas.Length);
        Assert.Equal(0f, scheduler.Sigmas[^1]);
    }

    [Fact]
    public void Euler_sigmas_and_init_noise_match_diffusers_formulas()
    {
        double[] ac = AlphasCumprodInDouble();
        double Sigma(double t)
        {
            int i = (int)Math.Floor(t);
            double f = t - i;
            double s0 = Math.Sqrt((1 - ac[i]) / ac[i]);
            return f == 0 ? s0 : s0 + ((Math.Sqrt((1 - ac[i + 1]) / ac[i + 1]) - s0) * f);
        }

        var linspace = (EulerDiscreteScheduler)DiffusionScheduler.Create(StableDiffusion with { TimestepSpacing = "linspace" }, 4);
        Assert.Equal(999, linspace.Timesteps[0], 1e-4);
        Assert.Equal(666, linspace.Timesteps[1], 1e-4);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(Sigma(linspace.Timesteps[i]), linspace.Sigmas[i], 1e-4 * Sigma(linspace.Timesteps[i]));
        }

        // linspace and trailing start at sigma_max; leading at √(σ_max² + 1).
        Assert.Equal(linspace.Sigmas[0], linspace.InitNoiseSigma);
        var leading = DiffusionScheduler.Create(StableDiffusion with { TimestepSpacing = "leading" }, 4);
        double s751 = Sigma(751);
        Assert.Equal(Math.Sqrt((s751 * s751) + 1), leading.InitNoiseSigma, 1e-4);
        Assert.Equal(1 / Math.Sqrt((s751 * s751) + 1), leading.InputScale(0), 1e-6);
    }

    [Fact]
    public void An_euler_step_with_a_perfect_noise_prediction_lands_on_the_clean_sample()
    {
        var scheduler = DiffusionScheduler.Create(StableDiffusion with { TimestepSpacing = "trailing" }, 1);
        float sigma = ((EulerDiscreteScheduler)scheduler).Sigmas[0];
        float[] clean = [0.5f, -0.25f, 1f];
        float[] noise = [1f, 2f, -1f];
        float[] sample = [.. clean.Select((x, i) => x + (sigma * noise[i]))];
        var denoised = new float[3];
        scheduler.Step(noise, 0, sample, denoised, new TorchGenerator(0));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(clean[i], sample[i], 1e-4);
            Assert.Equal(clean[i], denoised[i], 1e-4);
        }
    }

    [Fact]
    public void Ancestral_steps_draw_noise_from_the_seeded_stream()
    {
        var config = StableDiffusion with { ClassName = "EulerAncestralDiscreteScheduler", TimestepSpacing = "trailing" };
        float[] Run(ulong seed)
        {
            var scheduler = DiffusionScheduler.Create(config, 4);
            float[] sample = [1f, 2f, 3f, 4f];
            scheduler.Step([0.1f, 0.2f, 0.3f, 0.4f], 0, sample, new float[4], new TorchGenerator(seed));
            return sample;
        }

        Assert.Equal(Run(1), Run(1));
        Assert.NotEqual(Run(1), Run(2));
    }

    [Fact]
    public void Ddim_timesteps_and_step_follow_diffusers()
    {
        var config = StableDiffusion with { ClassName = "DDIMScheduler" };
        var scheduler = DiffusionScheduler.Create(config, 50);
        Assert.Equal(981, scheduler.Timesteps[0]);
        Assert.Equal(1, scheduler.Timesteps[^1]);
        Assert.Equal(50, scheduler.Timesteps.Count);
        Assert.Equal(1f, scheduler.InitNoiseSigma);

        // One step from t = 981 to 961 with eps: x0 = (x − √(1−ᾱt)·ε)/√ᾱt; x' = √ᾱp·x0 + √(1−ᾱp)·ε.
        double[] ac = AlphasCumprodInDouble();
        float[] sample = [0.7f];
        float[] eps = [0.3f];
        scheduler.Step(eps, 0, sample, new float[1], new TorchGenerator(0));
        double x0 = (0.7 - (Math.Sqrt(1 - ac[981]) * 0.3)) / Math.Sqrt(ac[981]);
        double expected = (Math.Sqrt(ac[961]) * x0) + (Math.Sqrt(1 - ac[961]) * 0.3);
        Assert.Equal(expected, sample[0], 1e-4);
    }

    [Fact]
    public void Lcm_picks_the_distilled_timesteps()
    {
        var config = StableDiffusion with { ClassName = "LCMScheduler", OriginalInferenceSteps = 50 };
        Assert.Equal([999f, 759f, 499f, 259f], DiffusionScheduler.Create(config, 4).Timesteps);
        Assert.Equal([999f], DiffusionScheduler.Create(config, 1).Timesteps);
        var lcm = (LcmScheduler)DiffusionScheduler.Create(config, 4);
        var (cSkip, cOut) = lcm.Scalings(999);
        Assert.Equal(0.25 / ((9990.0 * 9990.0) + 0.25), cSkip, 1e-9);
        Assert.Equal(9990.0 / Math.Sqrt((9990.0 * 9990.0) + 0.25), cOut, 1e-6);
    }

    [Fact]
    public void Reads_scheduler_config_json_and_refuses_unknown_schedulers()
    {
        var config = SchedulerConfig.FromJson("""{"_class_name":"EulerAncestralDiscreteScheduler","timestep_spacing":"trailing","steps_offset":1,"prediction_type":"v_prediction","trained_betas":null}""");
        Assert.Equal("EulerAncestralDiscreteScheduler", config.ClassName);
        Assert.Equal("trailing", config.TimestepSpacing);
        Assert.Equal("v_prediction", config.PredictionType);
        Assert.Null(config.TrainedBetas);
        Assert.Throws<NotSupportedException>(() => DiffusionScheduler.Create(config with { ClassName = "HeunDiscreteScheduler" }, 4));
        Assert.Throws<NotSupportedException>(() => DiffusionScheduler.Create(config with { TimestepSpacing = "karras" }, 4));
    }
}
