using Capa.Engine.Images.Noise;

namespace Capa.Engine.Images.Tests.Noise;

public sealed class TorchGeneratorTests
{
    [Fact]
    public void Mt19937_matches_the_reference_sequence()
    {
        // std::mt19937 with its default seed 5489: the 10000th output is 4123659995 (C++ standard, [rand.predef]).
        var generator = new TorchGenerator(5489);
        uint value = 0;
        for (int i = 0; i < 10000; i++)
        {
            value = generator.NextUInt32();
        }

        Assert.Equal(4123659995u, value);
        Assert.Equal(2357136044u, new TorchGenerator(0).NextUInt32());
    }

    [Fact]
    public void Small_tensors_equal_torch_randn_after_manual_seed_0()
    {
        // torch.manual_seed(0); torch.randn(5)
        float[] values = new TorchGenerator(0).Randn(5);
        Assert.Equal([1.5410f, -0.2934f, -2.1788f, 0.5684f, -1.0845f], values.Select(v => MathF.Round(v, 4)));
    }

    [Fact]
    public void Tensors_of_16_or_more_equal_torch_randn_after_manual_seed_0()
    {
        // torch.manual_seed(0); torch.randn(4, 4)
        float[] values = new TorchGenerator(0).Randn(16);
        float[] expected =
        [
            -1.1258f, -1.1524f, -0.2506f, -0.4339f,
            0.8487f, 0.6920f, -0.3160f, -2.1152f,
            0.3223f, -1.2633f, 0.3500f, 0.3081f,
            0.1198f, 1.2377f, 1.1168f, -0.2473f,
        ];
        Assert.Equal(expected, values.Select(v => MathF.Round(v, 4)));
    }

    [Fact]
    public void A_tail_block_is_redrawn_and_the_head_is_unchanged()
    {
        // normal_fill: sizes that are not a multiple of 16 redraw the last 16 values from fresh uniforms.
        float[] sixteen = new TorchGenerator(7).Randn(16);
        float[] twenty = new TorchGenerator(7).Randn(20);
        Assert.Equal(sixteen[..4], twenty[..4]);
        Assert.NotEqual(sixteen[4..16], twenty[4..16]);
    }

    [Fact]
    public void Same_seed_same_bits_and_statistics_are_standard_normal()
    {
        float[] a = new TorchGenerator(42).Randn(4 * 64 * 64);
        float[] b = new TorchGenerator(42).Randn(4 * 64 * 64);
        Assert.Equal(a, b);
        Assert.NotEqual(a, new TorchGenerator(43).Randn(4 * 64 * 64));
        double mean = a.Average();
        double variance = a.Select(x => (x - mean) * (x - mean)).Average();
        Assert.InRange(mean, -0.05, 0.05);
        Assert.InRange(variance, 0.95, 1.05);
    }
}
