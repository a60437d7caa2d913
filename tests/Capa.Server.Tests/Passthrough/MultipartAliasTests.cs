using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Capa.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using HeaderUtilities = Microsoft.Net.Http.Headers.HeaderUtilities;

namespace Capa.Server.Tests.Passthrough;

/// <summary>
/// Multipart requests forwarded upstream (image edits and variations, and any passthrough area such as videos): a
/// configured alias in the <c>model</c> field becomes its target, every other field and every file arrives as sent
/// (names, file names, content types, bytes, repeated fields in order); without an alias the body goes byte for byte.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class MultipartAliasTests(ServerFixture fixture)
{
    private HttpClient Http => fixture.Server.Http;

    [Theory]
    [InlineData("/v1/images/edits")]
    [InlineData("/v1/images/variations")]
    [InlineData("/v1/videos")]
    public async Task An_aliased_model_reaches_the_upstream_as_its_target_with_every_other_part_unchanged(string path)
    {
        var sent = SampleForm("gpt-4o");
        var echo = await PostAsync(path, await sent.ReadAsByteArrayAsync(), sent.Headers.ContentType!);

        Assert.Equal(path, echo.GetProperty("path").GetString());
        Assert.Equal("Bearer " + FakeUpstream.ApiKey, echo.GetProperty("authorization").GetString());
        var received = await ReadPartsAsync(echo);
        var expected = await ReadPartsAsync(await sent.ReadAsByteArrayAsync(), sent.Headers.ContentType!.ToString());

        Assert.Equal(["fake-model"], received.Where(p => p.Name == "model").Select(p => p.Text));
        Assert.Equal(Fields(expected), Fields(received));
        Assert.Equal(Files(expected).Count, Files(received).Count);
        foreach (var (want, got) in Files(expected).Zip(Files(received)))
        {
            Assert.Equal(want.Name, got.Name);
            Assert.Equal(want.FileName, got.FileName);
            Assert.Equal(want.ContentType, got.ContentType);
            Assert.True(want.Bytes.AsSpan().SequenceEqual(got.Bytes), $"the bytes of {want.FileName} changed on the way upstream");
        }
    }

    [Theory]
    [InlineData("/v1/images/edits")]
    [InlineData("/v1/images/variations")]
    [InlineData("/v1/videos")]
    public async Task A_model_without_an_alias_goes_upstream_byte_for_byte(string path)
    {
        var sent = SampleForm("org/upstream-model");
        var bytes = await sent.ReadAsByteArrayAsync();
        var echo = await PostAsync(path, bytes, sent.Headers.ContentType!);

        Assert.Equal(bytes, Convert.FromBase64String(echo.GetProperty("body").GetString()!));
        Assert.Equal(sent.Headers.ContentType!.ToString(), echo.GetProperty("content_type").GetString());
    }

    /// <summary>A form with a model, unicode and repeated text fields, two <c>image[]</c> files and a mask.</summary>
    private static MultipartFormDataContent SampleForm(string model)
    {
        static ByteArrayContent File(int seed, int length, string type)
        {
            var bytes = new byte[length];
            new Random(seed).NextBytes(bytes);
            return new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue(type) } };
        }

        var form = new MultipartFormDataContent("capa-test-boundary");
        form.Add(new StringContent("一只戴帽子的猫 \"quoted\"\r\nsecond line"), "prompt");
        form.Add(new StringContent(model), "model");
        form.Add(File(1, 40_000, "image/png"), "image[]", "first.png");
        form.Add(new StringContent("2"), "n");
        form.Add(File(2, 12_345, "image/webp"), "image[]", "second image.webp");
        form.Add(File(3, 999, "image/png"), "mask", "mask.png");
        form.Add(new StringContent("one"), "tag[]");
        form.Add(new StringContent("two"), "tag[]");
        form.Add(new StringContent("1024x1024"), "size");
        return form;
    }

    private async Task<JsonElement> PostAsync(string path, byte[] body, MediaTypeHeaderValue contentType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ServerFixture.ApiKey);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = contentType;
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static Task<List<Part>> ReadPartsAsync(JsonElement echo)
    {
        Assert.StartsWith("multipart/form-data", echo.GetProperty("content_type").GetString(), StringComparison.Ordinal);
        return ReadPartsAsync(Convert.FromBase64String(echo.GetProperty("body").GetString()!), echo.GetProperty("content_type").GetString()!);
    }

    private static async Task<List<Part>> ReadPartsAsync(byte[] body, string contentType)
    {
        var boundary = HeaderUtilities.RemoveQuotes(Microsoft.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType).Boundary).Value!;
        var reader = new MultipartReader(boundary, new MemoryStream(body));
        var parts = new List<Part>();
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            var disposition = Microsoft.Net.Http.Headers.ContentDispositionHeaderValue.Parse(section.ContentDisposition);
            using var bytes = new MemoryStream();
            await section.Body.CopyToAsync(bytes);
            var fileName = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
            parts.Add(new Part(
                HeaderUtilities.RemoveQuotes(disposition.Name).Value!,
                string.IsNullOrEmpty(fileName) ? null : fileName,
                fileName is { Length: > 0 } ? section.ContentType : null,
                bytes.ToArray()));
        }

        return parts;
    }

    private static List<(string Name, string Text)> Fields(List<Part> parts) =>
        [.. parts.Where(p => p.FileName is null && p.Name != "model").Select(p => (p.Name, p.Text))];

    private static List<Part> Files(List<Part> parts) => [.. parts.Where(p => p.FileName is not null)];

    private sealed record Part(string Name, string? FileName, string? ContentType, byte[] Bytes)
    {
        public string Text => Encoding.UTF8.GetString(Bytes);
    }
}
