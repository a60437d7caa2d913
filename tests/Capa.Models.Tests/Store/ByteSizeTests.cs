using Capa.Models.Store;

namespace Capa.Models.Tests.Store;

public sealed class ByteSizeTests
{
    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(999, "999 B")]
    [InlineData(1000, "1.00 KB")]
    [InlineData(1_536_000, "1.54 MB")]
    [InlineData(494_000_000, "494 MB")]
    [InlineData(12_345_678_901, "12.3 GB")]
    public void Formats_in_decimal_units(long bytes, string expected)
    {
        Assert.Equal(expected, ByteSize.Format(bytes));
    }
}
