using System.Text;
using Capa.Protocol;
using Capa.Protocol.Audio;

namespace Capa.Protocol.Tests.Audio;

public sealed class SpeechRequestReaderTests
{
    [Fact]
    public void Reads_a_full_request()
    {
        var request = Read("""{"model":"gpt-4o-mini-tts","input":"你好","voice":"coral","instructions":"Cheerful.","response_format":"wav","speed":1.5,"stream_format":"sse"}""");

        Assert.Equal("gpt-4o-mini-tts", request.Model);
        Assert.Equal("你好", request.Input);
        Assert.Equal("coral", request.Voice.Name);
        Assert.Equal("Cheerful.", request.Instructions);
        Assert.Equal("wav", request.ResponseFormat);
        Assert.Equal(1.5, request.Speed);
        Assert.True(request.StreamsEvents);
    }

    [Fact]
    public void Applies_OpenAIs_defaults_and_treats_null_as_absent()
    {
        var request = Read("""{"model":"tts-1","input":"Hi","voice":"alloy","speed":null,"response_format":null,"instructions":null}""");
        Assert.Equal("mp3", request.ResponseFormat);
        Assert.Equal(1.0, request.Speed);
        Assert.Equal(SpeechStreamFormats.Audio, request.StreamFormat);
        Assert.Null(request.Instructions);
    }

    [Fact]
    public void Reads_a_custom_voice_reference()
    {
        var request = Read("""{"model":"tts-1","input":"Hi","voice":{"id":"voice_1234"}}""");
        Assert.Null(request.Voice.Name);
        Assert.Equal("voice_1234", request.Voice.CustomId);
    }

    [Fact]
    public void Classic_models_answer_sse_requests_with_plain_audio()
    {
        Assert.False(Read("""{"model":"tts-1","input":"Hi","voice":"alloy","stream_format":"sse"}""").StreamsEvents);
        Assert.False(Read("""{"model":"tts-1-hd","input":"Hi","voice":"alloy","stream_format":"sse"}""").StreamsEvents);
    }

    [Theory]
    [InlineData("""{"input":"Hi","voice":"alloy"}""", "model", "missing_required_parameter", "Missing required parameter: 'model'.")]
    [InlineData("""{"model":"tts-1","voice":"alloy"}""", "input", "missing_required_parameter", "Missing required parameter: 'input'.")]
    [InlineData("""{"model":"tts-1","input":"Hi"}""", "voice", "missing_required_parameter", "Missing required parameter: 'voice'.")]
    [InlineData("""{"model":"tts-1","input":"","voice":"alloy"}""", "input", "empty_string", "Invalid 'input': empty string. Expected a string with minimum length 1, but got an empty string instead.")]
    [InlineData("""{"model":"tts-1","input":5,"voice":"alloy"}""", "input", "invalid_type", "Invalid type for 'input': expected a string, but got an integer instead.")]
    [InlineData("""{"model":"tts-1","input":"Hi","voice":7}""", "voice", "invalid_type", "Invalid type for 'voice': expected one of a string or an object, but got an integer instead.")]
    [InlineData("""{"model":"tts-1","input":"Hi","voice":{}}""", "voice.id", "missing_required_parameter", "Missing required parameter: 'voice.id'.")]
    [InlineData("""{"model":"tts-1","input":"Hi","voice":"alloy","speed":0.1}""", "speed", "decimal_below_min_value", "Invalid 'speed': decimal below minimum value. Expected a value >= 0.25, but got 0.1 instead.")]
    [InlineData("""{"model":"tts-1","input":"Hi","voice":"alloy","speed":5}""", "speed", "decimal_above_max_value", "Invalid 'speed': decimal above maximum value. Expected a value <= 4, but got 5 instead.")]
    [InlineData("""{"model":"tts-1","input":"Hi","voice":"alloy","speed":"fast"}""", "speed", "invalid_type", "Invalid type for 'speed': expected a decimal, but got a string instead.")]
    [InlineData("""{"model":"tts-1","input":"Hi","voice":"alloy","response_format":"ogg"}""", "response_format", "invalid_value", "Invalid value: 'ogg'. Supported values are: 'mp3', 'opus', 'aac', 'flac', 'wav', and 'pcm'.")]
    [InlineData("""{"model":"tts-1","input":"Hi","voice":"alloy","stream_format":"chunks"}""", "stream_format", "invalid_value", "Invalid value: 'chunks'. Supported values are: 'sse' and 'audio'.")]
    [InlineData("""{"model":"tts-1","input":"Hi","voice":"alloy","instructions":"Whisper."}""", "instructions", "unsupported_parameter", "Unsupported parameter: 'instructions' is not supported with this model.")]
    [InlineData("""{"model":"tts-1-hd","input":"Hi","voice":"alloy","instructions":"Whisper."}""", "instructions", "unsupported_parameter", "Unsupported parameter: 'instructions' is not supported with this model.")]
    [InlineData("""[1,2]""", null, "invalid_type", "Invalid request body: expected a JSON object, but got an array instead.")]
    public void Refuses_bad_fields_with_OpenAIs_errors(string body, string? param, string code, string message)
    {
        var error = Refuse(body);
        Assert.Equal(400, error.Status);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.Equal(param, error.Param);
        Assert.Equal(code, error.Code);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Input_is_limited_to_4096_characters()
    {
        var fits = Read($$"""{"model":"tts-1","input":"{{new string('a', 4096)}}","voice":"alloy"}""");
        Assert.Equal(4096, fits.Input.Length);

        var error = Refuse($$"""{"model":"tts-1","input":"{{new string('a', 4097)}}","voice":"alloy"}""");
        Assert.Equal("input", error.Param);
        Assert.Equal("string_above_max_length", error.Code);
        Assert.Equal("Invalid 'input': string too long. Expected a string with maximum length 4096, but got a string with length 4097 instead.", error.Message);
    }

    [Fact]
    public void Counts_characters_not_bytes()
    {
        Assert.Equal(4096, Read($$"""{"model":"tts-1","input":"{{new string('字', 4096)}}","voice":"alloy"}""").Input.Length);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("{\"model\":\"tts-1\"} x")]
    public void Malformed_json_is_OpenAIs_parse_error(string body)
    {
        var error = Refuse(body);
        Assert.Equal(400, error.Status);
        Assert.StartsWith("We could not parse the JSON body of your request.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_voice_lists_built_in_then_local_voices()
    {
        var error = SpeechModels.UnknownVoice("robot", ["espeak-ng", "alloy"]);
        Assert.Equal("voice", error.Param);
        Assert.Equal("invalid_value", error.Code);
        Assert.Equal(
            "Invalid value: 'robot'. Supported values are: 'alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'onyx', 'nova', 'sage', 'shimmer', 'verse', 'marin', 'cedar', and 'espeak-ng'.",
            error.Message);
    }

    [Fact]
    public void Usage_grows_with_text_and_audio()
    {
        var usage = SpeechUsage.For("Hello world.", TimeSpan.FromSeconds(1));
        Assert.Equal(3, usage.InputTokens);
        Assert.Equal(20, usage.OutputTokens);
        Assert.Equal(23, usage.TotalTokens);
    }

    private static SpeechRequest Read(string body)
    {
        Assert.True(SpeechRequestReader.TryRead(Encoding.UTF8.GetBytes(body), out var request, out var error), error?.ToString());
        return request;
    }

    private static ApiError Refuse(string body)
    {
        Assert.False(SpeechRequestReader.TryRead(Encoding.UTF8.GetBytes(body), out _, out var error));
        return error;
    }
}
