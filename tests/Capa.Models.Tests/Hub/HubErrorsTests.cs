using Capa.Models.Hub;

namespace Capa.Models.Tests.Hub;

public sealed class HubErrorsTests
{
    [Theory]
    [InlineData(28)] // ENOSPC, as .NET reports it on Unix
    [InlineData(0x70)] // ERROR_DISK_FULL
    [InlineData(unchecked((int)0x80070070))]
    public void Disk_full_errors_are_recognised_and_say_so(int hresult)
    {
        var io = new IOException("No space left on device", hresult);

        Assert.True(HubErrors.IsDiskFull(io));
        var error = HubErrors.Storage(io, "onnx/model_q4.onnx", "/models", 5_000_000);
        Assert.Equal(HubErrorKind.DiskFull, error.Kind);
        Assert.StartsWith("Not enough disk space in /models", error.Message, StringComparison.Ordinal);
        Assert.Contains("5.00 MB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_write_errors_are_storage_errors_with_the_cause()
    {
        var error = HubErrors.Storage(new IOException("Permission denied", 13), "config.json", "/models", 10);

        Assert.Equal(HubErrorKind.StorageError, error.Kind);
        Assert.Contains("Permission denied", error.Message, StringComparison.Ordinal);
    }
}
