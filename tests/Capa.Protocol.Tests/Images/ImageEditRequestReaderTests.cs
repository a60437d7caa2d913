using System.Buffers.Binary;
using Capa.Protocol.Images;

namespace Capa.Protocol.Tests.Images;

public sealed class ImageEditRequestReaderTests
{
    [Fact]
    public void Reads_a_dall_e_2_edit_with_a_mask()
    {
        var ok = ImageEditRequestReader.TryRead(
            Fields(("prompt", "a hat"), ("n", "2"), ("size", "256x256"), ("response_format", "b64_json")),
            [Png(64, 64)], Png(64, 64), variation: false, out var request, out var error);
        Assert.True(ok, error?.Message);
        Assert.Equal("dall-e-2", request!.Generation.Model);
        Assert.Equal(2, request.Generation.N);
        Assert.Equal(ImageResponseFormat.B64Json, request.Generation.ResponseFormat);
        Assert.NotNull(request.Mask);
    }

    [Fact]
    public void Variations_need_no_prompt_and_only_dall_e_2()
    {
        Assert.True(ImageEditRequestReader.TryRead(Fields(("n", "3")), [Png(32, 32)], null, variation: true, out var request, out _));
        Assert.Equal("", request!.Generation.Prompt);
        Assert.False(ImageEditRequestReader.TryRead(Fields(("model", "dall-e-3")), [Png(32, 32)], null, variation: true, out _, out var error));
        Assert.Equal("model", error!.Param);
    }

    [Fact]
    public void Refuses_what_OpenAI_refuses()
    {
        Assert.Equal("image", Fail(Fields(("prompt", "x")), [], null).Param);
        Assert.Equal("prompt", Fail(Fields(), [Png(8, 8)], null).Param);
        Assert.Equal("invalid_image", Fail(Fields(("prompt", "x")), [Png(8, 16)], null).Code);
        Assert.Equal("invalid_image_format", Fail(Fields(("prompt", "x")), [new ImageUpload { Bytes = new byte[] { 0xFF, 0xD8, 0xFF, 0 } }], null).Code);
        Assert.Equal("image_too_large", Fail(Fields(("prompt", "x")), [new ImageUpload { Bytes = Padded(Png(8, 8), 5 << 20) }], null).Code);
        Assert.Equal("mask", Fail(Fields(("prompt", "x")), [Png(8, 8)], Png(16, 16)).Param);
        Assert.Equal("invalid_type", Fail(Fields(("prompt", "x"), ("n", "two")), [Png(8, 8)], null).Code);
        Assert.Equal("integer_above_max_value", Fail(Fields(("prompt", "x"), ("n", "11")), [Png(8, 8)], null).Code);
        Assert.Equal("invalid_size", Fail(Fields(("prompt", "x"), ("size", "100x100")), [Png(8, 8)], null).Code);
    }

    [Fact]
    public void Gpt_image_models_take_several_images_of_any_kind()
    {
        var jpeg = new ImageUpload { Bytes = new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 } };
        Assert.True(ImageEditRequestReader.TryRead(Fields(("model", "gpt-image-1"), ("prompt", "x")), [Png(8, 16), jpeg], null, false, out var request, out _));
        Assert.Equal(2, request!.Images.Count);
        Assert.Equal(ImageResponseFormat.B64Json, request.Generation.ResponseFormat);
    }

    private static ApiError Fail(IReadOnlyDictionary<string, IReadOnlyList<string>> fields, IReadOnlyList<ImageUpload> images, ImageUpload? mask)
    {
        Assert.False(ImageEditRequestReader.TryRead(fields, images, mask, false, out _, out var error));
        Assert.Equal(400, error!.Status);
        return error;
    }

    private static Dictionary<string, IReadOnlyList<string>> Fields(params (string Name, string Value)[] fields) =>
        fields.ToDictionary(f => f.Name, f => (IReadOnlyList<string>)[f.Value]);

    // A PNG signature and IHDR are all the reader looks at.
    private static ImageUpload Png(int width, int height)
    {
        var bytes = new byte[33];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' }.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), height);
        return new ImageUpload { Bytes = bytes };
    }

    private static byte[] Padded(ImageUpload image, int length)
    {
        var bytes = new byte[length];
        image.Bytes.Span.CopyTo(bytes);
        return bytes;
    }
}
