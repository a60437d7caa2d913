using System.Net;
using Capa.Server.Vision;
using Microsoft.Extensions.Logging.Abstractions;

namespace Capa.Server.Tests.Vision;

/// <summary>
/// With the default configuration no image URL reaches this machine, its networks or a metadata service: not
/// directly, not through a name that resolves there, not through a redirect from an allowed host.
/// </summary>
public sealed class ImageFetchSafetyTests(ImageServerFixture fixture) : IClassFixture<ImageServerFixture>
{
    // A public address (example.com's) that the test hooks map to the local image server: the checks see a public
    // host, the socket reaches 127.0.0.1.
    private static readonly IPAddress Public = IPAddress.Parse("93.184.215.14");

    private ImageServer Server => fixture.Server;

    /// <summary>The defaults, plus http (the local server has no TLS) and a DNS where names resolve as the test says.</summary>
    private VisionInputOptions DefaultsWithHttp => new()
    {
        AllowHttp = true,
        ResolveHost = (host, _) => ValueTask.FromResult(host switch
        {
            "public.test" => new[] { Public },
            "internal.test" => [IPAddress.Parse("10.0.0.1")],
            "loopback.test" => [IPAddress.Loopback],
            "metadata.test" => [IPAddress.Parse("169.254.169.254")],
            "v6-local.test" => [IPAddress.IPv6Loopback],
            "mixed.test" => [Public, IPAddress.Loopback],
            _ => [],
        }),
        ConnectEndpoint = endpoint => endpoint.Address.Equals(Public) ? new IPEndPoint(IPAddress.Loopback, Server.Port) : endpoint,
    };

    private static async Task<FetchResult> FetchAsync(VisionInputOptions options, string url)
    {
        using var fetcher = new ImageFetcher(options, NullLogger.Instance);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await fetcher.FetchAsync(new Uri(url), 1 << 20, timeout.Token);
    }

    [Theory]
    [InlineData("https://127.0.0.1/image.png")]
    [InlineData("https://127.8.9.10:8443/image.png")]
    [InlineData("https://10.0.0.1/image.png")]
    [InlineData("https://172.16.5.4/image.png")]
    [InlineData("https://192.168.1.1/image.png")]
    [InlineData("https://100.64.0.1/image.png")]
    [InlineData("https://169.254.169.254/latest/meta-data/")]
    [InlineData("https://0.0.0.0/image.png")]
    [InlineData("https://[::1]/image.png")]
    [InlineData("https://[::ffff:127.0.0.1]/image.png")]
    [InlineData("https://[::ffff:a9fe:a9fe]/latest/meta-data/")]
    [InlineData("https://[::127.0.0.1]/image.png")]
    [InlineData("https://[64:ff9b::10.0.0.1]/image.png")]
    [InlineData("https://[2002:7f00:1::]/image.png")]
    [InlineData("https://[fd00:ec2::254]/latest/meta-data/")]
    [InlineData("https://[fc00::1]/image.png")]
    [InlineData("https://[fe80::1]/image.png")]
    [InlineData("https://2130706433/image.png")]
    [InlineData("https://0x7f.1/image.png")]
    public async Task ByDefault_PrivateAndLocalAddresses_AreRefused(string url)
    {
        var result = await FetchAsync(new VisionInputOptions(), url);
        Assert.Equal(FetchFailure.AddressNotAllowed, result.Failure);

        // Through the loader the client sees OpenAI's plain download error, nothing about the network.
        var error = await ChatImageLoaderTests.RefusedAsync(new VisionInputOptions(), url);
        Assert.Equal($"Error while downloading {url}.", error.Message);
        Assert.Equal("invalid_image_url", error.Code);
        Assert.Equal("messages[1].content[1].image_url.url", error.Param);
    }

    [Fact]
    public async Task ByDefault_Http_IsRefused()
    {
        var url = $"{Server.BaseUrl}/image.png";
        Assert.Equal(FetchFailure.SchemeNotAllowed, (await FetchAsync(new VisionInputOptions(), url)).Failure);
        var error = await ChatImageLoaderTests.RefusedAsync(new VisionInputOptions(), url);
        Assert.Equal($"Error while downloading {url}. Only https: image URLs are fetched, or send a base64 data: URL.", error.Message);
        Assert.Equal(FetchFailure.InvalidUrl, (await FetchAsync(new VisionInputOptions(), "file:///etc/passwd")).Failure);
        Assert.Equal(FetchFailure.SchemeNotAllowed, (await FetchAsync(new VisionInputOptions(), "ftp://example.com/image.png")).Failure);
    }

    [Fact]
    public async Task TheLoopbackServer_IsRefusedByDefault_AndReachedOnlyWhenPrivateNetworksAreAllowed()
    {
        var tag = Guid.NewGuid().ToString("N");
        var url = $"{Server.BaseUrl}/image.png?tag={tag}";

        Assert.Equal(FetchFailure.AddressNotAllowed, (await FetchAsync(new VisionInputOptions { AllowHttp = true }, url)).Failure);
        Assert.Equal(0, Server.HitsOf($"/image.png?tag={tag}"));

        var allowed = await FetchAsync(new VisionInputOptions { AllowHttp = true, AllowPrivateNetworks = true }, url);
        Assert.Equal(FetchFailure.None, allowed.Failure);
        Assert.Equal(ImageServer.Png, allowed.Bytes);
        Assert.Equal(1, Server.HitsOf($"/image.png?tag={tag}"));
    }

    [Theory]
    [InlineData("internal.test")]
    [InlineData("loopback.test")]
    [InlineData("metadata.test")]
    [InlineData("v6-local.test")]
    [InlineData("mixed.test")]
    public async Task ByDefault_NamesResolvingToPrivateAddresses_AreRefused(string host)
    {
        var tag = Guid.NewGuid().ToString("N");
        var result = await FetchAsync(DefaultsWithHttp, $"http://{host}:{Server.Port}/image.png?tag={tag}");
        Assert.Equal(FetchFailure.AddressNotAllowed, result.Failure);
        Assert.Equal(0, Server.HitsOf($"/image.png?tag={tag}"));
    }

    [Fact]
    public async Task AMetadataAddress_IsRefused_EvenWithPrivateNetworksAllowed()
    {
        var options = DefaultsWithHttp with { AllowPrivateNetworks = true };
        Assert.Equal(FetchFailure.AddressNotAllowed, (await FetchAsync(options, "http://metadata.test/latest/meta-data/")).Failure);
        Assert.Equal(FetchFailure.AddressNotAllowed, (await FetchAsync(options, "http://169.254.169.254/latest/meta-data/")).Failure);
        Assert.Equal(FetchFailure.AddressNotAllowed, (await FetchAsync(options, "http://[fd00:ec2::254]/latest/meta-data/")).Failure);
    }

    [Theory]
    [InlineData("http://127.0.0.1:{port}/image.png?tag={tag}")]
    [InlineData("http://[::ffff:127.0.0.1]:{port}/image.png?tag={tag}")]
    [InlineData("http://[::1]:{port}/image.png?tag={tag}")]
    [InlineData("http://loopback.test:{port}/image.png?tag={tag}")]
    [InlineData("http://internal.test:{port}/image.png?tag={tag}")]
    [InlineData("http://169.254.169.254/latest/meta-data/?tag={tag}")]
    [InlineData("http://metadata.test/latest/meta-data/?tag={tag}")]
    public async Task ARedirectFromAnAllowedHost_ToAPrivateAddress_IsRefused(string target)
    {
        var tag = Guid.NewGuid().ToString("N");
        var options = DefaultsWithHttp;

        // The public host itself is fetched (through the test mapping to the local server).
        var direct = await FetchAsync(options, $"http://public.test:{Server.Port}/image.png?tag=direct-{tag}");
        Assert.Equal(FetchFailure.None, direct.Failure);
        Assert.Equal(1, Server.HitsOf($"/image.png?tag=direct-{tag}"));

        var to = target.Replace("{port}", Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{tag}", tag, StringComparison.Ordinal);
        var url = $"http://public.test:{Server.Port}/redirect-to?to={Uri.EscapeDataString(to)}";
        var result = await FetchAsync(options, url);

        Assert.Equal(FetchFailure.AddressNotAllowed, result.Failure);
        Assert.Equal(1, Server.HitsOf($"/redirect-to?to={Uri.EscapeDataString(to)}"));
        Assert.Equal(0, Server.HitsOf($"/image.png?tag={tag}"));
    }

    [Fact]
    public async Task ARedirectToHttp_IsRefused_WhenOnlyHttpsIsAllowed()
    {
        // The first hop is allowed to be http here only to reach the local server; the check on the redirect target
        // is the same one that refuses an https → http downgrade.
        var options = DefaultsWithHttp;
        var to = "ftp://public.test/image.png";
        var result = await FetchAsync(options, $"http://public.test:{Server.Port}/redirect-to?to={Uri.EscapeDataString(to)}");
        Assert.Equal(FetchFailure.SchemeNotAllowed, result.Failure);
    }

    [Fact]
    public async Task TheConnectTimeout_CoversResolvingAndConnecting()
    {
        // A name that never resolves: the connect timeout, not the request's, ends the wait.
        var options = DefaultsWithHttp with
        {
            ConnectTimeout = TimeSpan.FromMilliseconds(300),
            Timeout = TimeSpan.FromMinutes(5),
            ResolveHost = async (_, cancellationToken) =>
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
                return [];
            },
        };
        Assert.Equal(FetchFailure.Timeout, (await FetchAsync(options, "http://stuck.test/image.png")).Failure);
        var error = await ChatImageLoaderTests.RefusedAsync(options, "http://stuck.test/image.png");
        Assert.Equal("Timeout while downloading http://stuck.test/image.png.", error.Message);
    }

    [Fact]
    public async Task AnUnresolvableName_IsANetworkError()
    {
        var result = await FetchAsync(DefaultsWithHttp, $"http://nowhere.test:{Server.Port}/image.png");
        Assert.Equal(FetchFailure.Network, result.Failure);
    }
}
