using Capa.Media.Images;

namespace Capa.Engine.Vision.Tests;

public sealed class RgbImageTests
{
    [Fact]
    public void Refuses_pixel_buffers_of_the_wrong_size()
    {
        Assert.Throws<ArgumentException>(() => new RgbImage(2, 2, new byte[11]));
        Assert.Equal(12, new RgbImage(2, 2, new byte[12]).Pixels.Length);
    }
}
