using Capa.Protocol;

namespace Capa.Protocol.Tests.Audio;

public sealed class TranscriptionRequestReaderTests
{
    private static readonly byte[] Audio = [1, 2, 3];

    private static (TranscriptionRequest? Request, ApiError? Error) Read(bool translation = false, params (string Name, string Value)[] fields)
    {
        var dict = fields.GroupBy(f => f.Name).ToDictionary(g => g.Key, g => (IReadOnlyList<string>)[.. g.Select(f => f.Value)]);
        TranscriptionRequestReader.TryRead(dict, Audio, "a.mp3", translation, out TranscriptionRequest? request, out ApiError? error);
        return (request, error);
    }

    [Fact]
    public void Defaults_AreOpenAis()
    {
        var (request, error) = Read(false, ("model", "whisper-1"));
        Assert.Null(error);
        Assert.Equal("transcribe", request!.Task);
        Assert.Equal(TranscriptionResponseFormat.Json, request.ResponseFormat);
        Assert.Equal(0, request.Temperature);
        Assert.False(request.Stream);
        Assert.True(request.SegmentTimestamps);
        Assert.False(request.WordTimestamps);
    }

    [Fact]
    public void AllFields_AreRead()
    {
        var (request, error) = Read(false, ("model", "whisper-1"), ("language", "ZH"), ("prompt", "Capa"), ("response_format", "verbose_json"),
            ("temperature", "0.4"), ("timestamp_granularities[]", "word"), ("timestamp_granularities[]", "segment"), ("chunking_strategy", "{\"type\":\"server_vad\",\"threshold\":0.5}"));
        Assert.Null(error);
        Assert.Equal("zh", request!.Language);
        Assert.Equal("Capa", request.Prompt);
        Assert.Equal(TranscriptionResponseFormat.VerboseJson, request.ResponseFormat);
        Assert.Equal(0.4, request.Temperature);
        Assert.True(request.WordTimestamps && request.SegmentTimestamps);
        Assert.Equal("server_vad", request.ChunkingStrategy);
    }

    [Theory]
    [InlineData("model", "", "Missing required parameter: 'model'.")]
    [InlineData("response_format", "xml", "Invalid value: 'xml'. Supported values are: 'json', 'text', 'srt', 'verbose_json' and 'vtt'.")]
    [InlineData("temperature", "1.5", "Invalid 'temperature': decimal above maximum value. Expected a value <= 1, but got 1.5 instead.")]
    [InlineData("temperature", "hot", "Invalid type for 'temperature': expected a decimal, but got a string instead.")]
    [InlineData("language", "english", "Invalid language 'english'. Language parameter must be specified in ISO-639-1 format.")]
    [InlineData("include[]", "logprobs", "logprobs are only supported with response_format json.")]
    [InlineData("timestamp_granularities[]", "word", "timestamp_granularities is only supported with response_format verbose_json.")]
    [InlineData("chunking_strategy", "{\"type\":\"magic\"}", "Invalid 'chunking_strategy': expected \"auto\" or an object with type \"server_vad\".")]
    [InlineData("stream", "maybe", "Invalid type for 'stream': expected a boolean, but got a string instead.")]
    public void BadFields_GetOpenAiErrors(string name, string value, string message)
    {
        var fields = new List<(string, string)> { (name, value) };
        if (name != "model")
        {
            fields.Add(("model", "whisper-1"));
        }

        if (name == "include[]")
        {
            fields.Add(("response_format", "text"));
        }

        var (request, error) = Read(false, [.. fields]);
        Assert.Null(request);
        Assert.Equal(400, error!.Status);
        Assert.Equal(message, error.Message);
        Assert.Equal(ApiError.InvalidRequestType, error.Type);
    }

    [Fact]
    public void MissingFile_AndStreamWithSubtitles_AreRejected()
    {
        var fields = new Dictionary<string, IReadOnlyList<string>> { ["model"] = ["whisper-1"] };
        Assert.False(TranscriptionRequestReader.TryRead(fields, null, null, false, out _, out ApiError? error));
        Assert.Equal("file", error.Param);

        var (_, streamError) = Read(false, ("model", "whisper-1"), ("stream", "true"), ("response_format", "srt"));
        Assert.Equal("unsupported_value", streamError!.Code);
    }

    [Fact]
    public void Translation_IgnoresLanguage()
    {
        var (request, _) = Read(true, ("model", "whisper-1"), ("language", "de"));
        Assert.Equal("translate", request!.Task);
        Assert.Null(request.Language);
    }

    [Fact]
    public void Errors_NameTheLimitsAndFormats()
    {
        Assert.Equal("Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
            TranscriptionRequestReader.InvalidFileFormat().Message);
        Assert.Equal("Maximum content size limit (26214400) exceeded (26214401 bytes read)", TranscriptionRequestReader.FileTooLarge(26214401).Message);
        Assert.Equal(413, TranscriptionRequestReader.FileTooLarge(1).Status);
        Assert.True(TranscriptionRequestReader.HasSupportedExtension("speech.MP3"));
        Assert.False(TranscriptionRequestReader.HasSupportedExtension("speech.txt"));
    }
}
