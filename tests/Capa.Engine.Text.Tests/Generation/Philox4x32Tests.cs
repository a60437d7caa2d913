using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Tests.Generation;

public sealed class Philox4x32Tests
{
    // Known-answer vectors of Random123's kat_vectors for philox4x32_10.
    [Theory]
    [InlineData(0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Block_MatchesKnownAnswers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint e0, uint e1, uint e2, uint e3)
    {
        Assert.Equal((e0, e1, e2, e3), Philox4x32.Block(c0, c1, c2, c3, k0, k1));
    }

    [Fact]
    public void Uniform_IsInUnitInterval_AndAddressable()
    {
        var seen = new HashSet<double>();
        for (var p = 0UL; p < 1000; p++)
        {
            var u = Philox4x32.Uniform(42, 0, p);
            Assert.InRange(u, 0.0, 0.9999999999);
            Assert.Equal(u, Philox4x32.Uniform(42, 0, p));
            seen.Add(u);
        }

        Assert.Equal(1000, seen.Count);
        Assert.NotEqual(Philox4x32.Uniform(42, 0, 7), Philox4x32.Uniform(42, 1, 7));
        Assert.NotEqual(Philox4x32.Uniform(42, 0, 7), Philox4x32.Uniform(43, 0, 7));
    }
}
