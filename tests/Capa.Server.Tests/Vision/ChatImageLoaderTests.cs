using System.Net;
using System.Security.Cryptography;
using Capa.Media.Tests.Images;
using Capa.Protocol;
using Capa.Server.Routing;
using Capa.Server.Vision;
using Microsoft.Extensions.Logging.Abstractions;
using SkiaSharp;

namespace Capa.Server.Tests.Vision;

/// <summary>The server side of an image server on 127.0.0.1, shared by the tests of a class.</summary>
public sealed class ImageServerFixture : IAsyncLifetime
{
    public ImageServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ImageServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// Loading the images of a chat request from a local server: the test options allow http and loopback, which the
/// defaults refuse (see <see cref="ImageFetchSafetyTests"/>).
/// </summary>
public sealed class ChatImageLoaderTests(ImageServerFixture fixture) : IClassFixture<ImageServerFixture>
{
    private static readonly VisionInputOptions Loopback = new() { AllowHttp = true, AllowPrivateNetworks = true };

    private ImageServer Server => fixture.Server;

    internal static ChatCompletionRequest Request(params string[] urls) => Request(urls.Select(u => (u, (string?)null)).ToArray());

    internal static ChatCompletionRequest Request(params (string Url, string? Detail)[] images)
    {
        var parts = new List<ChatContentPart> { ChatContentPart.FromText("What is in these images?") };
        parts.AddRange(images.Select(i => ChatContentPart.FromImageUrl(i.Url, i.Detail)));
        return new ChatCompletionRequest
        {
            Model = "vision",
            Messages =
            [
                new ChatMessage { Role = ChatRole.System, Content = "Be brief." },
                new ChatMessage { Role = ChatRole.User, Content = ChatMessageContent.FromParts(parts) },
            ],
        };
    }

    internal static async Task<IReadOnlyList<ChatImage>> LoadAsync(VisionInputOptions options, params string[] urls)
    {
        using var loader = new ChatImageLoader(options, NullLogger<ChatImageLoader>.Instance);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await loader.LoadAsync(Request(urls), timeout.Token);
    }

    /// <summary>The 400 a request with these images gets (the test fails if it gets images instead).</summary>
    internal static async Task<ApiError> RefusedAsync(VisionInputOptions options, params string[] urls)
    {
        var e = await Assert.ThrowsAsync<ChatProviderException>(() => LoadAsync(options, urls));
        Assert.Equal(400, e.Error.Status);
        Assert.Equal(ApiError.InvalidRequestType, e.Error.Type);
        return e.Error;
    }

    internal static string DataUrl(byte[] bytes, string mediaType = "image/png") => $"data:{mediaType};base64,{Convert.ToBase64String(bytes)}";

    [Fact]
    public async Task APng_IsDownloadedAndDecoded()
    {
        var images = await LoadAsync(Loopback, Server.BaseUrl + "/image.png");

        var image = Assert.Single(images);
        Assert.Equal("messages[1].content[1].image_url.url", image.Param);
        Assert.Equal("auto", image.Detail);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(ImageServer.Png)), image.ContentHash);
        Assert.Equal((24, 16), (image.Image.Width, image.Image.Height));
        Assert.Equal(ImageFixtures.Pattern(24, 16).Pixels, image.Image.Pixels);
    }

    [Fact]
    public async Task Images_KeepTheirOrderParamsAndDetail()
    {
        using var loader = new ChatImageLoader(Loopback, NullLogger<ChatImageLoader>.Instance);
        var images = await loader.LoadAsync(
            Request((Server.BaseUrl + "/image.webp", "low"), (DataUrl(ImageServer.Png), "high"), (Server.BaseUrl + "/image.png", null)),
            CancellationToken.None);

        Assert.Equal(["messages[1].content[1].image_url.url", "messages[1].content[2].image_url.url", "messages[1].content[3].image_url.url"], images.Select(i => i.Param));
        Assert.Equal(["low", "high", "auto"], images.Select(i => i.Detail));
        Assert.Equal((10, 6), (images[0].Image.Width, images[0].Image.Height));

        // The same bytes inline and downloaded have the same hash: a feature cache sees one image.
        Assert.Equal(images[1].ContentHash, images[2].ContentHash);
        Assert.NotEqual(images[0].ContentHash, images[1].ContentHash);
    }

    [Fact]
    public async Task ARequestWithoutImages_LoadsNothing()
    {
        using var loader = new ChatImageLoader(new VisionInputOptions(), NullLogger<ChatImageLoader>.Instance);
        Assert.Empty(await loader.LoadAsync(Request(Array.Empty<string>()), CancellationToken.None));
    }

    [Fact]
    public async Task AWrongContentType_WithAValidPng_StillWorks()
    {
        var image = Assert.Single(await LoadAsync(Loopback, Server.BaseUrl + "/image-as-text"));
        Assert.Equal((24, 16), (image.Image.Width, image.Image.Height));
    }

    [Fact]
    public async Task FiveRedirects_AreFollowed_ASixthIsRefused()
    {
        var image = Assert.Single(await LoadAsync(Loopback, Server.BaseUrl + "/redirect/5"));
        Assert.Equal((24, 16), (image.Image.Width, image.Image.Height));

        var before = Server.HitsOf("/redirect/0");
        var beforeLast = Server.HitsOf("/redirect/1");
        var url = Server.BaseUrl + "/redirect/6";
        var error = await RefusedAsync(Loopback, url);
        Assert.Equal($"Error while downloading {url}.", error.Message);
        Assert.Equal("invalid_image_url", error.Code);
        Assert.Equal("messages[1].content[1].image_url.url", error.Param);

        // The sixth redirect (from /redirect/1) is where it stops: /redirect/0 is never asked for.
        Assert.Equal(beforeLast + 1, Server.HitsOf("/redirect/1"));
        Assert.Equal(before, Server.HitsOf("/redirect/0"));
    }

    [Fact]
    public async Task AnOversizedBody_IsCutWhileStreaming()
    {
        var tag = Guid.NewGuid().ToString("N");
        var options = Loopback with { MaxImageBytes = 1L << 20 };
        var error = await RefusedAsync(options, $"{Server.BigUrl}?tag={tag}");

        Assert.Equal("image_too_large", error.Code);
        Assert.Equal("The image is larger than 1 MiB, the most this server accepts per image.", error.Message);

        // The server saw the connection go away after the cap plus what socket buffers hold, not after draining.
        var written = await Server.Cut(tag).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(written < 32L << 20, $"The server wrote {written} bytes.");
    }

    [Fact]
    public async Task ADeclaredOversizedBody_IsRefusedFromItsLength()
    {
        var tag = Guid.NewGuid().ToString("N");
        var error = await RefusedAsync(Loopback, $"{Server.BaseUrl}/big-declared?tag={tag}");
        Assert.Equal("image_too_large", error.Code);
        Assert.Equal(8, await Server.Cut(tag).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task TheRequestByteCap_CountsAllImages()
    {
        var options = Loopback with { MaxRequestImageBytes = ImageServer.Png.Length + 100 };
        var error = await RefusedAsync(options, DataUrl(ImageServer.Png), Server.BaseUrl + "/image.png");

        Assert.Equal("image_too_large", error.Code);
        Assert.Equal("messages[1].content[2].image_url.url", error.Param);
        Assert.Contains("in all, the most this server accepts per request", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASlowBody_TimesOut()
    {
        var tag = Guid.NewGuid().ToString("N");
        var url = $"{Server.BaseUrl}/slow?tag={tag}";
        var error = await RefusedAsync(Loopback with { Timeout = TimeSpan.FromSeconds(1) }, url);

        Assert.Equal($"Timeout while downloading {url}.", error.Message);
        Assert.Equal("invalid_image_url", error.Code);
        await Server.Cut(tag).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task TheClientGoingAway_CancelsTheDownload_WithoutA400()
    {
        var tag = Guid.NewGuid().ToString("N");
        using var loader = new ChatImageLoader(Loopback, NullLogger<ChatImageLoader>.Instance);
        using var client = new CancellationTokenSource();
        var load = loader.LoadAsync(Request($"{Server.BaseUrl}/slow?tag={tag}"), client.Token);
        while (Server.HitsOf($"/slow?tag={tag}") == 0)
        {
            await Task.Delay(10);
        }

        await client.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => load);
        await Server.Cut(tag).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task NonImageBytes_AreAnUnsupportedImage()
    {
        var error = await RefusedAsync(Loopback, Server.BaseUrl + "/text");
        Assert.Equal(ChatImageLoader.UnsupportedFormatMessage, error.Message);
        Assert.Equal("You uploaded an unsupported image. Please make sure your image has of one the following formats: ['png', 'jpeg', 'gif', 'webp'].", error.Message);
        Assert.Equal("invalid_image_format", error.Code);
    }

    [Fact]
    public async Task ATruncatedPng_IsAnInvalidImage()
    {
        var error = await RefusedAsync(Loopback, Server.BaseUrl + "/truncated.png");
        Assert.Equal("The image data you provided does not represent a valid image.", error.Message);
        Assert.Equal("invalid_image", error.Code);
    }

    [Fact]
    public async Task AHugePngHeader_IsRefusedBeforeDecoding()
    {
        var error = await RefusedAsync(Loopback, Server.BaseUrl + "/bomb.png");
        Assert.Equal("image_too_large", error.Code);
        Assert.StartsWith("The image is 30000x30000 pixels; this server accepts at most", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnHttpError_IsAnErrorWhileDownloading()
    {
        var url = Server.BaseUrl + "/missing";
        var error = await RefusedAsync(Loopback, url);
        Assert.Equal($"Error while downloading {url}.", error.Message);
        Assert.Equal("invalid_image_url", error.Code);
    }

    [Fact]
    public async Task NothingListening_IsAnErrorWhileDownloading()
    {
        // A port just released by a listener: connecting is refused.
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var url = $"http://127.0.0.1:{port}/image.png";
        var error = await RefusedAsync(Loopback, url);
        Assert.Equal($"Error while downloading {url}.", error.Message);
    }

    [Fact]
    public async Task DataUrls_AreDecoded_ByTheirBytesNotTheirDeclaredType()
    {
        var options = new VisionInputOptions { FetchUrls = false };
        var png = Assert.Single(await LoadAsync(options, DataUrl(ImageServer.Png)));
        Assert.Equal(ImageFixtures.Pattern(24, 16).Pixels, png.Image.Pixels);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(ImageServer.Png)), png.ContentHash);

        var jpeg = ImageFixtures.Encode(ImageFixtures.Pattern(8, 8), SKEncodedImageFormat.Jpeg, 90);
        Assert.Equal((8, 8), (Assert.Single(await LoadAsync(options, DataUrl(jpeg, "image/png"))).Image.Width, 8));
        Assert.Single(await LoadAsync(options, DataUrl(ImageServer.Png, "application/octet-stream")));
        Assert.Single(await LoadAsync(options, "DATA:image/png;BASE64," + Convert.ToBase64String(ImageServer.Png)));
    }

    [Fact]
    public async Task BadDataUrls_GetOpenAIsErrors()
    {
        var options = new VisionInputOptions();
        var notImage = await RefusedAsync(options, DataUrl("plain text, not an image"u8.ToArray()));
        Assert.Equal("invalid_image_format", notImage.Code);

        var badBase64 = await RefusedAsync(options, "data:image/png;base64,@@@not*base64@@@");
        Assert.Equal("invalid_image", badBase64.Code);

        var notBase64 = await RefusedAsync(options, "data:image/png,%89PNG");
        Assert.Equal("invalid_image_url", notBase64.Code);
        Assert.Equal("messages[1].content[1].image_url.url", notBase64.Param);

        var tooLarge = await RefusedAsync(options with { MaxImageBytes = 100 }, DataUrl(ImageServer.Png));
        Assert.Equal("image_too_large", tooLarge.Code);
        Assert.Equal("The image is larger than 100 bytes, the most this server accepts per image.", tooLarge.Message);
    }

    [Fact]
    public async Task TooManyImages_AreRefusedBeforeAnyIsFetched()
    {
        var tag = Guid.NewGuid().ToString("N");
        var url = $"{Server.BaseUrl}/image.png?tag={tag}";
        var error = await RefusedAsync(Loopback with { MaxImages = 2 }, url, url, url);

        Assert.Equal("too_many_images", error.Code);
        Assert.Equal("messages[1].content[3].image_url.url", error.Param);
        Assert.Equal("This request has 3 images; this server accepts at most 2 images per request.", error.Message);
        Assert.Equal(0, Server.HitsOf($"/image.png?tag={tag}"));
        Assert.Equal(16, new VisionInputOptions().MaxImages);
    }

    [Fact]
    public async Task WithFetchingOff_OnlyDataUrlsAreAccepted()
    {
        var tag = Guid.NewGuid().ToString("N");
        var url = $"{Server.BaseUrl}/image.png?tag={tag}";
        var error = await RefusedAsync(Loopback with { FetchUrls = false }, url);

        Assert.Equal($"Error while downloading {url}. This server does not fetch image URLs; send the image inline as a base64 data: URL.", error.Message);
        Assert.Equal(0, Server.HitsOf($"/image.png?tag={tag}"));
    }

    [Fact]
    public async Task TheDomainAllowList_IsCheckedOnEveryRedirect()
    {
        // Both names resolve to this machine; only one is allowed.
        var options = Loopback with
        {
            AllowedDomains = new DomainAllowList(["images.test"]),
            ResolveHost = (_, _) => ValueTask.FromResult(new[] { IPAddress.Loopback }),
        };
        var allowed = $"http://images.test:{Server.Port}";
        var other = $"http://elsewhere.test:{Server.Port}";

        Assert.Single(await LoadAsync(options, allowed + "/image.png"));

        var tag = Guid.NewGuid().ToString("N");
        var direct = await RefusedAsync(options, $"{other}/image.png?tag={tag}");
        Assert.EndsWith("Its host is not on this server's list of allowed image domains.", direct.Message, StringComparison.Ordinal);

        var redirected = await RefusedAsync(options, $"{allowed}/redirect-to?to={Uri.EscapeDataString($"{other}/image.png?tag={tag}")}");
        Assert.Equal("invalid_image_url", redirected.Code);
        Assert.Equal(0, Server.HitsOf($"/image.png?tag={tag}"));
    }
}
