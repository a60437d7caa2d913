using System.Text;
using Capa.Server.Configuration;
using Capa.Server.Hosting;
using Capa.Server.Routing;
using Capa.Server.Tests.Infrastructure;
using Capa.Server.Vision;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Tests.Vision;

public sealed class VisionConfigTests
{
    private static CapaConfigFile Parse(string json) => CapaConfigFile.Parse(Encoding.UTF8.GetBytes(json), "test.json");

    [Fact]
    public void WithoutAVisionObject_TheDefaultsAreSafe()
    {
        var options = VisionInputOptions.From(Parse("{}").Vision);
        Assert.True(options.FetchUrls);
        Assert.False(options.AllowHttp);
        Assert.False(options.AllowPrivateNetworks);
        Assert.True(options.AllowedDomains.AllowsAny);
        Assert.Equal(16, options.MaxImages);
        Assert.Equal(20L << 20, options.MaxImageBytes);
        Assert.Equal(50L << 20, options.MaxRequestImageBytes);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Timeout);
    }

    [Fact]
    public void EveryKey_IsRead()
    {
        var config = Parse("""
            {
              // comments are allowed in the config file
              "vision": { "fetch_urls": false, "allow_http": true, "allow_private_networks": true,
                          "allowed_domains": ["example.com", "*.example.org"], "max_images": 4, "max_image_bytes": 1048576,
                          "max_request_image_bytes": 2097152, "max_image_pixels": 1000000, "connect_timeout": 2, "timeout": 7.5 }
            }
            """);
        var options = VisionInputOptions.From(config.Vision);

        Assert.False(options.FetchUrls);
        Assert.True(options.AllowHttp);
        Assert.True(options.AllowPrivateNetworks);
        Assert.True(options.AllowedDomains.Allows("example.com"));
        Assert.True(options.AllowedDomains.Allows("img.example.org"));
        Assert.False(options.AllowedDomains.Allows("example.net"));
        Assert.Equal(4, options.MaxImages);
        Assert.Equal(1L << 20, options.MaxImageBytes);
        Assert.Equal(2L << 20, options.MaxRequestImageBytes);
        Assert.Equal(1_000_000, options.MaxImagePixels);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(7.5), options.Timeout);
    }

    [Theory]
    [InlineData("""{ "vision": { "fetch_url": false } }""", "fetch_url")]
    [InlineData("""{ "vision": { "max_images": 0 } }""", "positive")]
    [InlineData("""{ "vision": { "max_image_bytes": -1 } }""", "positive")]
    [InlineData("""{ "vision": { "timeout": 0 } }""", "positive")]
    [InlineData("""{ "vision": { "max_tiles": -1 } }""", "positive")]
    [InlineData("""{ "vision": { "max_pixels": 0 } }""", "positive")]
    [InlineData("""{ "vision": { "allowed_domains": ["https://example.com/"] } }""", "allowed_domains")]
    [InlineData("""{ "vision": { "allowed_domains": ["*"] } }""", "allowed_domains")]
    public void InvalidVisionObjects_AreRefused(string json, string mentioned)
    {
        var error = Assert.Throws<CapaConfigException>(() => Parse(json));
        Assert.Contains(mentioned, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheServer_RegistersTheLoader_WithTheConfigFilesVisionObject()
    {
        var path = Path.Combine(Path.GetTempPath(), $"capa-vision-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, """{ "vision": { "fetch_urls": false, "max_images": 1 } }""");
        try
        {
            await using var server = await CapaTestServer.StartAsync(new CapaServerOptions { ConfigFile = path });
            var loader = server.Services.GetRequiredService<IChatImageLoader>();
            Assert.Same(loader, server.Services.GetRequiredService<IChatImageLoader>());

            var inline = await loader.LoadAsync(ChatImageLoaderTests.Request(ChatImageLoaderTests.DataUrl(ImageServer.Png)), CancellationToken.None);
            Assert.Equal((24, 16), (Assert.Single(inline).Image.Width, inline[0].Image.Height));

            var url = await Assert.ThrowsAsync<ChatProviderException>(() => loader.LoadAsync(ChatImageLoaderTests.Request("https://example.com/cat.png"), CancellationToken.None));
            Assert.Contains("does not fetch image URLs", url.Error.Message, StringComparison.Ordinal);

            var two = await Assert.ThrowsAsync<ChatProviderException>(() => loader.LoadAsync(
                ChatImageLoaderTests.Request(ChatImageLoaderTests.DataUrl(ImageServer.Png), ChatImageLoaderTests.DataUrl(ImageServer.Png)), CancellationToken.None));
            Assert.Equal("too_many_images", two.Error.Code);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
