using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Capa.Server.Images;
using Capa.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Images;

namespace Capa.Server.Tests.Images;

/// <summary>The image endpoints end to end: the official SDK's ImageClient and raw HTTP against the real server.</summary>
public sealed class ImagesEndpointTests(ImageServerFixture fixture) : IClassFixture<ImageServerFixture>
{
    private HttpClient Http => fixture.Server.Http;

    private static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    private async Task<HttpResponseMessage> PostJsonAsync(string json, string path = "/v1/images/generations")
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        return await Http.PostAsync(path, content);
    }

    private async Task<JsonElement> GenerateJsonAsync(string json)
    {
        using HttpResponseMessage response = await PostJsonAsync(json);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task The_tutorials_example_returns_a_url_to_a_1024_png_that_expires_after_an_hour()
    {
        ImageClient client = fixture.Images("dall-e-3");
        GeneratedImage image = (await client.GenerateImageAsync("一只猫", new ImageGenerationOptions
        {
            Size = GeneratedImageSize.W1024xH1024,
            Quality = new GeneratedImageQuality("standard"),
        })).Value;

        Assert.NotNull(image.ImageUri);
        Assert.Null(image.ImageBytes);
        Assert.Equal("一只猫", image.RevisedPrompt);
        Assert.StartsWith(fixture.Server.BaseUrl + "/images/img_", image.ImageUri.AbsoluteUri, StringComparison.Ordinal);

        // Anyone holding the link can fetch it, with no API key, as OpenAI's signed links.
        using var anonymous = new HttpClient();
        using (HttpResponseMessage fetched = await anonymous.GetAsync(image.ImageUri))
        {
            Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
            Assert.Equal("image/png", fetched.Content.Headers.ContentType?.MediaType);
            Assert.Equal((1024, 1024), PngSize(await fetched.Content.ReadAsByteArrayAsync()));
        }

        fixture.Clock.Advance(TimeSpan.FromMinutes(59));
        using (HttpResponseMessage still = await anonymous.GetAsync(image.ImageUri))
        {
            Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        }

        var store = fixture.Server.Services.GetRequiredService<ImageFileStore>();
        fixture.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.True(store.Sweep() >= 1);
        using HttpResponseMessage gone = await anonymous.GetAsync(image.ImageUri);
        await ErrorAssert.IsOpenAIErrorAsync(gone, HttpStatusCode.NotFound, "image_not_found");
        string name = image.ImageUri.Segments[^1];
        Assert.False(File.Exists(Path.Combine(fixture.Directory, "files", name)));
    }

    [Fact]
    public async Task B64_json_carries_a_png_of_exactly_the_requested_size()
    {
        ImageClient client = fixture.Images("dall-e-2");
        GeneratedImageCollection images = (await client.GenerateImagesAsync("a red bicycle", 2, new ImageGenerationOptions
        {
            Size = GeneratedImageSize.W256xH256,
            ResponseFormat = GeneratedImageFormat.Bytes,
        })).Value;

        Assert.Equal(2, images.Count);
        Assert.All(images, i => Assert.Equal((256, 256), PngSize(i.ImageBytes.ToArray())));
        Assert.All(images, i => Assert.Null(i.RevisedPrompt));

        // n images use seed, seed + 1, ...: they differ.
        Assert.NotEqual(images[0].ImageBytes.ToArray(), images[1].ImageBytes.ToArray());
    }

    [Fact]
    public async Task A_seed_makes_the_bytes_reproducible_alone_and_amid_concurrent_requests()
    {
        const string Request = """{"model":"dall-e-2","prompt":"a lighthouse","size":"512x512","response_format":"b64_json","seed":1234}""";
        JsonElement first = await GenerateJsonAsync(Request);
        string b64 = first.GetProperty("data")[0].GetProperty("b64_json").GetString()!;

        Task<JsonElement>[] together =
        [
            GenerateJsonAsync(Request),
            GenerateJsonAsync(Request.Replace("1234", "99", StringComparison.Ordinal)),
            GenerateJsonAsync(Request),
            GenerateJsonAsync(Request.Replace("a lighthouse", "a forest", StringComparison.Ordinal)),
        ];
        JsonElement[] results = await Task.WhenAll(together);
        Assert.Equal(b64, results[0].GetProperty("data")[0].GetProperty("b64_json").GetString());
        Assert.Equal(b64, results[2].GetProperty("data")[0].GetProperty("b64_json").GetString());
        Assert.NotEqual(b64, results[1].GetProperty("data")[0].GetProperty("b64_json").GetString());
        Assert.NotEqual(b64, results[3].GetProperty("data")[0].GetProperty("b64_json").GetString());

        // The seed is reported, and a header seed works the same way.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations")
        {
            Content = new StringContent("""{"model":"dall-e-2","prompt":"a lighthouse","size":"512x512","response_format":"b64_json"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-capa-seed", "1234");
        using HttpResponseMessage response = await Http.SendAsync(request);
        Assert.Equal("1234", response.Headers.GetValues("x-capa-seed").Single());
        Assert.Equal(b64, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("data")[0].GetProperty("b64_json").GetString());

        using HttpResponseMessage unseeded = await PostJsonAsync("""{"prompt":"x","size":"256x256"}""");
        Assert.True(ulong.TryParse(unseeded.Headers.GetValues("x-capa-seed").Single(), out _));
    }

    [Fact]
    public async Task Gpt_image_models_answer_b64_with_usage_size_quality_and_format()
    {
        JsonElement body = await GenerateJsonAsync("""{"model":"gpt-image-1","prompt":"a cat in a hat","size":"1536x1024","quality":"high","output_format":"jpeg","output_compression":80,"seed":3}""");
        Assert.Equal("1536x1024", body.GetProperty("size").GetString());
        Assert.Equal("high", body.GetProperty("quality").GetString());
        Assert.Equal("jpeg", body.GetProperty("output_format").GetString());
        Assert.Equal("opaque", body.GetProperty("background").GetString());
        byte[] jpeg = Convert.FromBase64String(body.GetProperty("data")[0].GetProperty("b64_json").GetString()!);
        Assert.Equal(new byte[] { 0xFF, 0xD8, 0xFF }, jpeg[..3]);
        Assert.False(body.GetProperty("data")[0].TryGetProperty("url", out _));
        JsonElement usage = body.GetProperty("usage");
        Assert.Equal(48 * 32, usage.GetProperty("output_tokens").GetInt32());
        int text = usage.GetProperty("input_tokens_details").GetProperty("text_tokens").GetInt32();
        Assert.InRange(text, 1, 75);
        Assert.Equal(text + (48 * 32), usage.GetProperty("total_tokens").GetInt32());

        // The SDK reads the same fields (its GPT image members are marked experimental).
#pragma warning disable OPENAI001
        GeneratedImageCollection images = (await fixture.Images("gpt-image-1").GenerateImagesAsync("a cat", 1, new ImageGenerationOptions
        {
            OutputFileFormat = GeneratedImageFileFormat.Webp,
        })).Value;
        Assert.Equal(GeneratedImageFileFormat.Webp, images.OutputFileFormat);
#pragma warning restore OPENAI001
        Assert.Equal("RIFF", Encoding.ASCII.GetString(images[0].ImageBytes.ToArray()[..4]));
    }

    [Theory]
    [InlineData("""{"model":"dall-e-3","prompt":"p","n":2}""", "n", "You must provide n=1 for this model.")]
    [InlineData("""{"model":"dall-e-3","prompt":"p","size":"512x512"}""", "size", "The size is not supported by this model.")]
    [InlineData("""{"model":"gpt-image-1","prompt":"p","response_format":"url"}""", "response_format", "Unknown parameter: 'response_format'.")]
    [InlineData("""{"model":"dall-e-2","prompt":""}""", "prompt", "Invalid 'prompt': empty string. Expected a string with minimum length 1, but got an empty string instead.")]
    [InlineData("""{"model":"dall-e-2","prompt":"p","n":11}""", "n", "Invalid 'n': integer above maximum value. Expected a value <= 10, but got 11 instead.")]
    public async Task Invalid_requests_get_OpenAIs_errors(string json, string param, string message)
    {
        using HttpResponseMessage response = await PostJsonAsync(json);
        JsonElement error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, param: param);
        Assert.Equal(message, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Bad_bodies_and_unknown_models_get_OpenAIs_errors_and_the_server_keeps_serving()
    {
        using (HttpResponseMessage tooLong = await PostJsonAsync($$"""{"model":"dall-e-2","prompt":"{{new string('a', 1001)}}"}"""))
        {
            JsonElement error = await ErrorAssert.IsOpenAIErrorAsync(tooLong, HttpStatusCode.BadRequest, param: "prompt");
            Assert.Equal("Prompt must be length 1000 or less. Your prompt length is 1001. Please reduce your prompt length.", error.GetProperty("message").GetString());
        }

        using (HttpResponseMessage broken = await PostJsonAsync("{\"prompt\":"))
        {
            await ErrorAssert.IsOpenAIErrorAsync(broken, HttpStatusCode.BadRequest);
        }

        using (var text = new StringContent("prompt=cat", Encoding.UTF8, "text/plain"))
        using (HttpResponseMessage wrongType = await Http.PostAsync("/v1/images/generations", text))
        {
            await ErrorAssert.IsOpenAIErrorAsync(wrongType, HttpStatusCode.UnsupportedMediaType);
        }

        Assert.Equal(HttpStatusCode.OK, (await PostJsonAsync("""{"prompt":"still here","size":"256x256"}""")).StatusCode);
    }

    [Fact]
    public async Task Without_an_upstream_a_model_that_is_not_local_is_model_not_found()
    {
        string models = Path.Combine(fixture.Directory, "models");
        await using CapaTestServer server = await CapaTestServer.StartAsync(
            new Capa.Server.Hosting.CapaServerOptions { ModelsDirectory = models },
            builder => builder.Services.AddImages(new ImageOptions { ModelsDirectory = models, IntraOpThreads = 1 }));
        using var content = new StringContent("""{"model":"no-such-image-model","prompt":"p"}""", Encoding.UTF8, "application/json");
        using HttpResponseMessage unknown = await server.Http.PostAsync("/v1/images/generations", content);
        await ErrorAssert.IsOpenAIErrorAsync(unknown, HttpStatusCode.NotFound, "model_not_found");
    }

    [Fact]
    public async Task Models_that_are_not_local_go_to_the_upstream_unchanged()
    {
        using HttpResponseMessage response = await PostJsonAsync("""{"model":"flux-upstream","prompt":"一只猫","size":"1024x1024"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("/v1/images/generations", echo.GetProperty("path").GetString());
        JsonElement sent = JsonDocument.Parse(Convert.FromBase64String(echo.GetProperty("body").GetString()!)).RootElement;
        Assert.Equal("一只猫", sent.GetProperty("prompt").GetString());
    }

    [Theory]
    [InlineData("""{"model":"gpt-image-1","prompt":"a logo","background":"transparent"}""")]
    [InlineData("""{"model":"gpt-image-1","prompt":"a logo","background":"transparent","output_format":"webp","stream":true,"partial_images":1}""")]
    public async Task A_transparent_background_is_refused_locally_rather_than_answered_opaque(string json)
    {
        using HttpResponseMessage response = await PostJsonAsync(json);
        JsonElement error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, "unsupported_value", "background");
        Assert.Equal(ImagesEndpoint.TransparentUnsupported().Message, error.GetProperty("message").GetString());
        Assert.Contains("background-removal model", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Opaque and auto are served; an edit asking for transparency is refused the same way.
        Assert.Equal("opaque", (await GenerateJsonAsync("""{"model":"gpt-image-1","prompt":"a logo","background":"opaque","size":"1024x1024"}""")).GetProperty("background").GetString());
        using var form = new MultipartFormDataContent
        {
            { new StringContent("gpt-image-1"), "model" },
            { new StringContent("a hat"), "prompt" },
            { new StringContent("transparent"), "background" },
        };
        var image = new ByteArrayContent(TransparentLeftHalf(64));
        image.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(image, "image", "a.png");
        using HttpResponseMessage edit = await Http.PostAsync("/v1/images/edits", form);
        await ErrorAssert.IsOpenAIErrorAsync(edit, HttpStatusCode.BadRequest, "unsupported_value", "background");
    }

    [Fact]
    public async Task A_transparent_background_for_an_upstream_model_is_forwarded()
    {
        using HttpResponseMessage response = await PostJsonAsync("""{"model":"flux-upstream","prompt":"a logo","background":"transparent"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        JsonElement sent = JsonDocument.Parse(Convert.FromBase64String(echo.GetProperty("body").GetString()!)).RootElement;
        Assert.Equal("transparent", sent.GetProperty("background").GetString());
    }

    [Fact]
    public async Task The_local_model_answers_to_its_own_id_too()
    {
        JsonElement body = await GenerateJsonAsync($$"""{"model":"{{CapaSdTiny.ModelId}}","prompt":"p","size":"320x192","response_format":"b64_json"}""");
        Assert.Equal((320, 192), PngSize(Convert.FromBase64String(body.GetProperty("data")[0].GetProperty("b64_json").GetString()!)));
    }

    [Fact]
    public async Task Edits_with_and_without_a_mask_and_variations_through_the_sdk()
    {
        JsonElement source = await GenerateJsonAsync("""{"prompt":"a house","size":"256x256","response_format":"b64_json","seed":8}""");
        byte[] png = Convert.FromBase64String(source.GetProperty("data")[0].GetProperty("b64_json").GetString()!);
        byte[] mask = TransparentLeftHalf(256);
        ImageClient client = fixture.Images("dall-e-2");

        GeneratedImage edited = (await client.GenerateImageEditAsync(new MemoryStream(png), "house.png", "a red door", new MemoryStream(mask), "mask.png", new ImageEditOptions
        {
            Size = GeneratedImageSize.W512xH512,
            ResponseFormat = GeneratedImageFormat.Bytes,
        })).Value;
        Assert.Equal((512, 512), PngSize(edited.ImageBytes.ToArray()));

        GeneratedImage unmasked = (await client.GenerateImageEditAsync(new MemoryStream(png), "house.png", "a red door", new ImageEditOptions
        {
            Size = GeneratedImageSize.W256xH256,
            ResponseFormat = GeneratedImageFormat.Bytes,
        })).Value;
        Assert.Equal((256, 256), PngSize(unmasked.ImageBytes.ToArray()));

        GeneratedImageCollection variations = (await client.GenerateImageVariationsAsync(new MemoryStream(png), "house.png", 2, new ImageVariationOptions
        {
            Size = GeneratedImageSize.W256xH256,
        })).Value;
        Assert.Equal(2, variations.Count);
        Assert.All(variations, v => Assert.NotNull(v.ImageUri));
    }

    [Fact]
    public async Task Multipart_edits_are_validated_as_OpenAIs()
    {
        async Task<HttpResponseMessage> PostFormAsync(string path, Action<MultipartFormDataContent> fill)
        {
            using var form = new MultipartFormDataContent();
            fill(form);
            return await Http.PostAsync(path, form);
        }

        static ByteArrayContent File(byte[] bytes)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            return content;
        }

        using (HttpResponseMessage noImage = await PostFormAsync("/v1/images/edits", f => f.Add(new StringContent("x"), "prompt")))
        {
            await ErrorAssert.IsOpenAIErrorAsync(noImage, HttpStatusCode.BadRequest, "missing_required_parameter", "image");
        }

        byte[] notSquare = TransparentLeftHalf(64)[..];
        BinaryPrimitives.WriteInt32BigEndian(notSquare.AsSpan(20), 32);
        using (HttpResponseMessage square = await PostFormAsync("/v1/images/edits", f =>
        {
            f.Add(new StringContent("x"), "prompt");
            f.Add(File(notSquare), "image", "a.png");
        }))
        {
            await ErrorAssert.IsOpenAIErrorAsync(square, HttpStatusCode.BadRequest, param: "image");
        }

        byte[] corrupt = [.. TransparentLeftHalf(64)[..40], .. new byte[20]];
        using (HttpResponseMessage broken = await PostFormAsync("/v1/images/variations", f => f.Add(File(corrupt), "image", "a.png")))
        {
            await ErrorAssert.IsOpenAIErrorAsync(broken, HttpStatusCode.BadRequest, "invalid_image", "image");
        }

        using (HttpResponseMessage json = await PostJsonAsync("""{"prompt":"x"}""", "/v1/images/edits"))
        {
            await ErrorAssert.IsOpenAIErrorAsync(json, HttpStatusCode.BadRequest, "invalid_content_type");
        }
    }

    [Fact]
    public async Task Gpt_image_streams_partial_images_then_the_completed_image()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations")
        {
            Content = new StringContent("""{"model":"gpt-image-1","prompt":"a fox","quality":"high","stream":true,"partial_images":2,"size":"1024x1024","seed":5}""", Encoding.UTF8, "application/json"),
        };
        using HttpResponseMessage response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync();
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(block => block.Split('\n').Single(l => l.StartsWith("data: ", StringComparison.Ordinal))[6..])
            .Select(data => JsonDocument.Parse(data).RootElement)
            .ToList();
        Assert.Equal(["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"], events.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal([0, 1], events.Take(2).Select(e => e.GetProperty("partial_image_index").GetInt32()));
        JsonElement completed = events[^1];
        Assert.Equal((1024, 1024), PngSize(Convert.FromBase64String(completed.GetProperty("b64_json").GetString()!)));
        Assert.True(completed.GetProperty("usage").GetProperty("output_tokens").GetInt32() > 0);
        Assert.Equal("high", completed.GetProperty("quality").GetString());
    }

    /// <summary>An RGBA PNG whose left half is transparent (repaint) and right half opaque (keep).</summary>
    private static byte[] TransparentLeftHalf(int side)
    {
        var pixels = new byte[side * side * 4];
        for (int y = 0; y < side; y++)
        {
            for (int x = side / 2; x < side; x++)
            {
                pixels[(((y * side) + x) * 4) + 3] = 255;
            }
        }

        return Capa.Engine.Images.Encoding.ImageCodec.Encode(new Capa.Engine.Images.RgbImage(side, side, 4, pixels), Capa.Engine.Images.Encoding.ImageOutputFormat.Png);
    }
}
