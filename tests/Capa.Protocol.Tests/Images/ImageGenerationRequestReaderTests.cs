using System.Text;
using System.Text.Json;
using Capa.Protocol.Images;

namespace Capa.Protocol.Tests.Images;

public sealed class ImageGenerationRequestReaderTests
{
    [Fact]
    public void Reads_the_tutorials_dall_e_3_request()
    {
        var request = Read("""{"model":"dall-e-3","prompt":"一只猫","size":"1024x1024","quality":"standard","n":1}""");
        Assert.Equal("dall-e-3", request.Model);
        Assert.Equal(ImageModelFamily.DallE3, request.Family);
        Assert.Equal("一只猫", request.Prompt);
        Assert.Equal((1024, 1024), (request.Width, request.Height));
        Assert.Equal("standard", request.Quality);
        Assert.Equal("vivid", request.Style);
        Assert.Equal(ImageResponseFormat.Url, request.ResponseFormat);
        Assert.False(request.IsGptImage);
    }

    [Fact]
    public void Defaults_to_dall_e_2_at_1024_square_with_urls()
    {
        var request = Read("""{"prompt":"a cat"}""");
        Assert.Equal("dall-e-2", request.Model);
        Assert.Equal("1024x1024", request.Size);
        Assert.Equal(1, request.N);
        Assert.Equal(ImageResponseFormat.Url, request.ResponseFormat);
        Assert.Null(request.Style);
    }

    [Fact]
    public void A_gpt_image_only_parameter_makes_gpt_image_1_the_default()
    {
        var request = Read("""{"prompt":"a cat","output_format":"jpeg"}""");
        Assert.Equal("gpt-image-1", request.Model);
        Assert.Equal("jpeg", request.OutputFormat);
        Assert.Equal(ImageResponseFormat.B64Json, request.ResponseFormat);
        Assert.Equal("auto", request.Quality);
        Assert.Equal("auto", request.Background);
        Assert.Equal("gpt-image-1", ImageGenerationRequestReader.PeekModel("""{"prompt":"a cat","stream":true}"""u8));
        Assert.Equal("dall-e-2", ImageGenerationRequestReader.PeekModel("""{"prompt":"a cat"}"""u8));
        Assert.Null(ImageGenerationRequestReader.PeekModel("[1]"u8));
    }

    [Theory]
    [InlineData("gpt-image-1", "auto", 1024, 1024)]
    [InlineData("gpt-image-1-mini", "1536x1024", 1536, 1024)]
    [InlineData("gpt-image-1.5", "1024x1536", 1024, 1536)]
    [InlineData("dall-e-2", "256x256", 256, 256)]
    [InlineData("dall-e-2", "512x512", 512, 512)]
    [InlineData("dall-e-3", "1792x1024", 1792, 1024)]
    [InlineData("dall-e-3", "1024x1792", 1024, 1792)]
    [InlineData("capa-sd-tiny", "640x384", 640, 384)]
    public void Accepts_each_models_sizes(string model, string size, int width, int height)
    {
        var request = Read($$"""{"model":"{{model}}","prompt":"p","size":"{{size}}"}""");
        Assert.Equal((width, height), (request.Width, request.Height));
        Assert.Equal(size, request.Size);
    }

    [Theory]
    [InlineData("dall-e-2", "1792x1024")]
    [InlineData("dall-e-2", "auto")]
    [InlineData("dall-e-3", "512x512")]
    [InlineData("dall-e-3", "1536x1024")]
    [InlineData("gpt-image-1", "256x256")]
    [InlineData("gpt-image-1", "1792x1024")]
    [InlineData("capa-sd-tiny", "1000x1001")]
    [InlineData("capa-sd-tiny", "8x8")]
    [InlineData("capa-sd-tiny", "big")]
    public void Refuses_sizes_the_model_does_not_make(string model, string size)
    {
        var error = Error($$"""{"model":"{{model}}","prompt":"p","size":"{{size}}"}""");
        AssertError(error, "The size is not supported by this model.", "size", "invalid_size");
    }

    [Fact]
    public void Dall_e_3_takes_only_n_1()
    {
        AssertError(Error("""{"model":"dall-e-3","prompt":"p","n":2}"""), "You must provide n=1 for this model.", "n", "invalid_value");
    }

    [Theory]
    [InlineData("0", "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.", "integer_below_min_value")]
    [InlineData("11", "Invalid 'n': integer above maximum value. Expected a value <= 10, but got 11 instead.", "integer_above_max_value")]
    [InlineData("1.5", "Invalid type for 'n': expected an integer, but got a decimal instead.", "invalid_type")]
    [InlineData("\"2\"", "Invalid type for 'n': expected an integer, but got a string instead.", "invalid_type")]
    public void N_is_an_integer_from_1_to_10(string n, string message, string code)
    {
        AssertError(Error($$"""{"model":"dall-e-2","prompt":"p","n":{{n}}}"""), message, "n", code);
    }

    [Fact]
    public void Prompt_lengths_follow_each_model()
    {
        string p1001 = new('a', 1001);
        AssertError(
            Error($$"""{"model":"dall-e-2","prompt":"{{p1001}}"}"""),
            "Prompt must be length 1000 or less. Your prompt length is 1001. Please reduce your prompt length.",
            "prompt",
            "string_above_max_length");
        Assert.Equal(1001, Read($$"""{"model":"dall-e-3","prompt":"{{p1001}}"}""").Prompt.Length);
        string p4001 = new('a', 4001);
        AssertError(
            Error($$"""{"model":"dall-e-3","prompt":"{{p4001}}"}"""),
            "Invalid 'prompt': string too long. Expected a string with maximum length 4000, but got a string with length 4001 instead.",
            "prompt",
            "string_above_max_length");
        Assert.Equal(4001, Read($$"""{"model":"gpt-image-1","prompt":"{{p4001}}"}""").Prompt.Length);
    }

    [Fact]
    public void Prompt_is_required_and_not_empty()
    {
        AssertError(Error("""{"model":"dall-e-3"}"""), "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter");
        AssertError(
            Error("""{"model":"dall-e-3","prompt":""}"""),
            "Invalid 'prompt': empty string. Expected a string with minimum length 1, but got an empty string instead.",
            "prompt",
            "empty_string");
        AssertError(Error("""{"prompt":null}"""), "Invalid type for 'prompt': expected a string, but got null instead.", "prompt", "invalid_type");
        AssertError(Error("""{"prompt":5}"""), "Invalid type for 'prompt': expected a string, but got an integer instead.", "prompt", "invalid_type");
    }

    [Fact]
    public void Gpt_image_models_refuse_response_format()
    {
        AssertError(
            Error("""{"model":"gpt-image-1","prompt":"p","response_format":"url"}"""),
            "Unknown parameter: 'response_format'.",
            "response_format",
            "unknown_parameter");
    }

    [Fact]
    public void Dall_e_models_refuse_gpt_image_parameters()
    {
        AssertError(Error("""{"model":"dall-e-3","prompt":"p","output_format":"png"}"""), "Unknown parameter: 'output_format'.", "output_format", "unknown_parameter");
        AssertError(Error("""{"model":"dall-e-2","prompt":"p","background":"opaque"}"""), "Unknown parameter: 'background'.", "background", "unknown_parameter");
        AssertError(Error("""{"model":"dall-e-2","prompt":"p","style":"vivid"}"""), "Unknown parameter: 'style'.", "style", "unknown_parameter");
    }

    [Theory]
    [InlineData("dall-e-2", "hd")]
    [InlineData("dall-e-3", "high")]
    [InlineData("gpt-image-1", "hd")]
    [InlineData("gpt-image-1", "standard")]
    public void Quality_follows_each_model(string model, string quality)
    {
        var error = Error($$"""{"model":"{{model}}","prompt":"p","quality":"{{quality}}"}""");
        Assert.Equal("quality", error.Param);
        Assert.Equal("invalid_value", error.Code);
        Assert.StartsWith($"Invalid value: '{quality}'. Supported values are: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reads_gpt_image_fields_and_extensions()
    {
        var request = Read("""{"model":"gpt-image-1","prompt":"p","quality":"high","output_format":"webp","output_compression":80,"background":"opaque","stream":true,"partial_images":2,"seed":42,"negative_prompt":"blur","user":"u"}""");
        Assert.Equal("high", request.Quality);
        Assert.Equal("webp", request.OutputFormat);
        Assert.Equal(80, request.OutputCompression);
        Assert.Equal("opaque", request.Background);
        Assert.True(request.Stream);
        Assert.Equal(2, request.PartialImages);
        Assert.Equal(42UL, request.Seed);
        Assert.Equal("blur", request.NegativePrompt);
        Assert.Equal("u", request.User);
    }

    [Fact]
    public void Gpt_image_rules_on_streams_compression_and_background()
    {
        AssertError(Error("""{"model":"gpt-image-1","prompt":"p","partial_images":4,"stream":true}"""),
            "Invalid 'partial_images': integer above maximum value. Expected a value <= 3, but got 4 instead.", "partial_images", "integer_above_max_value");
        Assert.Equal("partial_images", Error("""{"model":"gpt-image-1","prompt":"p","partial_images":1}""").Param);
        Assert.Equal("output_compression", Error("""{"model":"gpt-image-1","prompt":"p","output_compression":50}""").Param);
        Assert.Equal("background", Error("""{"model":"gpt-image-1","prompt":"p","background":"transparent","output_format":"jpeg"}""").Param);
        Assert.Equal("stream", Error("""{"model":"dall-e-3","prompt":"p","stream":true}""").Param);
    }

    [Theory]
    [InlineData("", "invalid_json")]
    [InlineData("{", "invalid_json")]
    [InlineData("[]", "invalid_type")]
    [InlineData("{} {}", "invalid_json")]
    [InlineData("{\"prompt\":\"\\ud800\"}", "invalid_json")]
    public void Malformed_bodies_get_OpenAIs_errors(string body, string code)
    {
        Assert.False(ImageGenerationRequestReader.TryRead(Encoding.UTF8.GetBytes(body), out _, out var error));
        Assert.Equal(400, error!.Status);
        Assert.True(error.Code == code || (code == "invalid_json" && error.Code is null), $"{error.Code}: {error.Message}");
    }

    [Fact]
    public void Response_is_snake_case_without_absent_fields()
    {
        var response = new ImagesResponse
        {
            Created = 1,
            Data = [new ImageData { Url = "http://x/a.png", RevisedPrompt = "a cat" }],
        };
        Assert.Equal("""{"created":1,"data":[{"url":"http://x/a.png","revised_prompt":"a cat"}]}""", JsonSerializer.Serialize(response, ImagesJsonContext.Default.ImagesResponse));
        var gpt = response with
        {
            Data = [new ImageData { B64Json = "AA==" }],
            Size = "1024x1024",
            Quality = "low",
            OutputFormat = "png",
            Background = "opaque",
            Usage = ImagesUsage.For(5, 0, 1024, 1024, 1),
        };
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(gpt, ImagesJsonContext.Default.ImagesResponse));
        var usage = doc.RootElement.GetProperty("usage");
        Assert.Equal(1024, usage.GetProperty("output_tokens").GetInt32());
        Assert.Equal(1029, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("input_tokens_details").GetProperty("text_tokens").GetInt32());
    }

    private static ImageGenerationRequest Read(string json)
    {
        Assert.True(ImageGenerationRequestReader.TryRead(Encoding.UTF8.GetBytes(json), out var request, out var error), error?.Message);
        return request;
    }

    private static ApiError Error(string json)
    {
        Assert.False(ImageGenerationRequestReader.TryRead(Encoding.UTF8.GetBytes(json), out _, out var error));
        return error;
    }

    private static void AssertError(ApiError error, string message, string? param, string? code)
    {
        Assert.Equal(400, error.Status);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.Equal(message, error.Message);
        Assert.Equal(param, error.Param);
        Assert.Equal(code, error.Code);
    }
}
