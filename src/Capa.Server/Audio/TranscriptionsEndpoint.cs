using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Capa.Engine.Whisper;
using Capa.Media.Decoding;
using Capa.Protocol;
using Capa.Server.Errors;
using Capa.Server.Hosting;
using Capa.Server.Limits;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Capa.Server.Audio;

/// <summary>
/// <c>POST /v1/audio/transcriptions</c> and <c>/v1/audio/translations</c>: a multipart upload, validated as OpenAI does,
/// decoded to 16 kHz (WAV in managed code, everything else through ffmpeg run hardened), transcribed by the provider
/// that serves the model, and answered in the requested format (json, text, srt, verbose_json, vtt, or SSE events).
/// </summary>
internal sealed partial class TranscriptionsEndpoint
{
    /// <summary>The header that carries (and reports) the seed of sampled decoding.</summary>
    public const string SeedHeader = "x-capa-seed";

    /// <summary>Room for the form's text fields and multipart framing beside the largest file.</summary>
    private const long FormOverheadBytes = 1 << 20;

    private readonly Routing.ModelRouter _router;
    private readonly Passthrough.UpstreamForwarder _forwarder;
    private readonly RequestGate _gate;
    private readonly AudioDecodeOptions _decodeOptions;
    private readonly ILogger _logger;

    public TranscriptionsEndpoint(Routing.ModelRouter router, Passthrough.UpstreamForwarder forwarder, RequestGate gate, AudioDecodeOptions decodeOptions, ILogger<TranscriptionsEndpoint> logger)
    {
        _router = router;
        _forwarder = forwarder;
        _gate = gate;
        _decodeOptions = decodeOptions;
        _logger = logger;
    }

    public async Task HandleAsync(HttpContext context, bool translation)
    {
        CancellationToken aborted = context.RequestAborted;
        HttpRequest http = context.Request;
        if (!http.HasFormContentType || !(http.ContentType ?? "").StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest(
                "This endpoint takes multipart/form-data with a 'file' part and a 'model' field.", null, "invalid_content_type")).ConfigureAwait(false);
            return;
        }

        if (http.ContentLength is { } declared && declared > TranscriptionRequestReader.MaxFileBytes + FormOverheadBytes)
        {
            await ErrorWriter.WriteAsync(context, TranscriptionRequestReader.FileTooLarge(declared)).ConfigureAwait(false);
            return;
        }

        using var lease = await _gate.EnterAsync(aborted).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            await ErrorWriter.WriteAsync(context, ApiError.RateLimited(1)).ConfigureAwait(false);
            return;
        }

        (TranscriptionRequest? request, ApiError? formError, IFormCollection? form) = await ReadFormAsync(context, translation).ConfigureAwait(false);
        if (request is null)
        {
            await ErrorWriter.WriteAsync(context, formError!).ConfigureAwait(false);
            return;
        }

        var route = await _router.ResolveAsync<ITranscriptionProvider>(request.Model, Routing.ModelCapabilities.Transcription, aborted).ConfigureAwait(false);
        if (route is null)
        {
            await ErrorWriter.WriteAsync(context, ApiError.ModelNotFound(request.Model)).ConfigureAwait(false);
            return;
        }

        if (route.Provider is Providers.Upstream.UpstreamChatProvider upstream)
        {
            // No local model: the upstream gets the same form, with an alias's target as the model.
            LogForwarded(_logger, request.Model);
            await _forwarder.ForwardAsync(context, upstream.Options, Passthrough.UpstreamMultipart.FromForm(form!, route.TargetModel)).ConfigureAwait(false);
            return;
        }

        var provider = (ITranscriptionProvider)route.Provider;

        if (request.WordTimestamps && !provider.SupportsWordTimestamps(request.Model))
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest(
                $"The model `{request.Model}` cannot give word timestamps: its Whisper export has no cross-attention outputs (a *_timestamped export has them). Ask for segment timestamps instead.",
                "timestamp_granularities", "unsupported_value")).ConfigureAwait(false);
            return;
        }

        if (!TranscriptionRequestReader.HasSupportedExtension(request.FileName) && AudioSniffer.Sniff(request.File.Span) == AudioContainer.Unknown)
        {
            await ErrorWriter.WriteAsync(context, TranscriptionRequestReader.InvalidFileFormat()).ConfigureAwait(false);
            return;
        }

        float[] samples;
        try
        {
            samples = (await AudioUploadDecoder.DecodeAsync(request.File, _decodeOptions, aborted).ConfigureAwait(false)).Samples;
        }
        catch (AudioDecodeException ex)
        {
            LogUndecodable(_logger, request.FileName, ex.Failure, ex.Message);
            ApiError error = ex.Failure switch
            {
                AudioDecodeFailure.TooLong => ApiError.InvalidRequest(ex.Message, "file", "audio_too_long"),
                AudioDecodeFailure.DecoderMissing => new ApiError(500, ex.Message, ApiError.ServerErrorType, null, "decoder_missing"),
                _ => TranscriptionRequestReader.UndecodableFile(),
            };
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        ulong seed = ReadSeed(http);
        context.Response.Headers[SeedHeader] = seed.ToString(CultureInfo.InvariantCulture);
        if (request.Stream)
        {
            await StreamAsync(context, provider, request, samples, seed).ConfigureAwait(false);
            return;
        }

        TranscriptionOutcome outcome;
        try
        {
            outcome = await provider.TranscribeAsync(new TranscriptionCall { Request = request, Samples = samples, Seed = seed }, aborted).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            await ErrorWriter.WriteAsync(context, LanguageError(request, ex)).ConfigureAwait(false);
            return;
        }

        await WriteResponseAsync(context, request, outcome).ConfigureAwait(false);
    }

    private static ApiError LanguageError(TranscriptionRequest request, ArgumentException ex) => request.Language is { } language
        ? ApiError.InvalidRequest($"Unsupported language '{language}': the model `{request.Model}` does not know it.", "language", "unsupported_language")
        : ApiError.InvalidRequest(ex.Message, null);

    private static async Task<(TranscriptionRequest?, ApiError?, IFormCollection?)> ReadFormAsync(HttpContext context, bool translation)
    {
        HttpRequest http = context.Request;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = TranscriptionRequestReader.MaxFileBytes + FormOverheadBytes;
        }

        context.Features.Set<IFormFeature>(new FormFeature(http, new FormOptions
        {
            MultipartBodyLengthLimit = TranscriptionRequestReader.MaxFileBytes + FormOverheadBytes,
            ValueCountLimit = 64,
            ValueLengthLimit = 1 << 20,
        }));
        IFormCollection form;
        try
        {
            form = await http.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TranscriptionRequestReader.FileTooLarge(TranscriptionRequestReader.MaxFileBytes + FormOverheadBytes), null);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
        {
            return (null, ApiError.InvalidRequest("The multipart form could not be parsed.", null, "invalid_multipart"), null);
        }

        var fields = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (key, values) in form)
        {
            fields[key] = [.. values.Select(v => v ?? "")];
        }

        IFormFile? file = form.Files.GetFile("file");
        if (file is not null && file.Length > TranscriptionRequestReader.MaxFileBytes)
        {
            return (null, TranscriptionRequestReader.FileTooLarge(file.Length), null);
        }

        byte[]? bytes = null;
        if (file is not null)
        {
            bytes = new byte[file.Length];
            await using Stream stream = file.OpenReadStream();
            await stream.ReadExactlyAsync(bytes, context.RequestAborted).ConfigureAwait(false);
        }

        bool valid = TranscriptionRequestReader.TryRead(fields, bytes, file?.FileName, translation, out TranscriptionRequest? request, out ApiError? error);
        return valid ? (request, null, form) : (null, error, null);
    }

    private static ulong ReadSeed(HttpRequest http)
    {
        if (http.Headers.TryGetValue(SeedHeader, out var values) && ulong.TryParse(values.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed))
        {
            return seed;
        }

        // Without a seed, one is drawn and reported, so any answer can be reproduced.
        return BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) >> 11;
    }

    private static TranscriptionUsage? Usage(TranscriptionRequest request, WhisperTranscript transcript) =>
        request.Task == "translate" ? null : new TranscriptionUsage { Seconds = Math.Ceiling(transcript.Duration) };

    private static async Task WriteResponseAsync(HttpContext context, TranscriptionRequest request, TranscriptionOutcome outcome)
    {
        WhisperTranscript transcript = outcome.Transcript;
        string text = transcript.Text.Trim();
        IReadOnlyList<TranscriptionSegment> segments = Segments(transcript);
        (string contentType, byte[] body) = request.ResponseFormat switch
        {
            TranscriptionResponseFormat.Text => ("text/plain; charset=utf-8", Encoding.UTF8.GetBytes(text + "\n")),
            // OpenAI sends subtitles as text/plain too; clients (the official SDKs) read any text/plain body as the result.
            TranscriptionResponseFormat.Srt => ("text/plain; charset=utf-8", Encoding.UTF8.GetBytes(TranscriptionSubtitles.ToSrt(segments))),
            TranscriptionResponseFormat.Vtt => ("text/plain; charset=utf-8", Encoding.UTF8.GetBytes(TranscriptionSubtitles.ToVtt(segments))),
            TranscriptionResponseFormat.VerboseJson => ("application/json", CapaJsonContext.ToWireBytes(new TranscriptionVerboseJsonResponse
            {
                Task = transcript.Task,
                Language = request.Task == "translate" ? "english" : WhisperLanguages.TryGetName(transcript.Language, out string? name) ? name : transcript.Language,
                Duration = transcript.Duration,
                Text = text,
                Words = request.WordTimestamps ? Words(transcript) : null,
                Segments = request.SegmentTimestamps ? segments : null,
                Usage = Usage(request, transcript),
            }, TranscriptionJsonContext.Default.TranscriptionVerboseJsonResponse)),
            _ => ("application/json", CapaJsonContext.ToWireBytes(new TranscriptionJsonResponse
            {
                Text = text,
                Logprobs = outcome.Logprobs,
                Usage = Usage(request, transcript),
            }, TranscriptionJsonContext.Default.TranscriptionJsonResponse)),
        };
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private static IReadOnlyList<TranscriptionSegment> Segments(WhisperTranscript transcript) =>
        [.. transcript.Segments.Select(s => new TranscriptionSegment
        {
            Id = s.Id,
            Seek = s.Seek,
            Start = s.Start,
            End = s.End,
            Text = s.Text,
            Tokens = s.Tokens,
            Temperature = s.Temperature,
            AvgLogprob = s.AvgLogprob,
            CompressionRatio = s.CompressionRatio,
            NoSpeechProb = s.NoSpeechProb,
        })];

    /// <summary>Every segment's words in order, without the spaces Whisper's tokens carry (as OpenAI's words), blank ones left out.</summary>
    private static IReadOnlyList<TranscriptionWord> Words(WhisperTranscript transcript) =>
        [.. transcript.Segments.SelectMany(s => s.Words)
            .Where(w => !string.IsNullOrWhiteSpace(w.Word))
            .Select(w => new TranscriptionWord { Word = w.Word.Trim(), Start = w.Start, End = w.End })];

    private async Task StreamAsync(HttpContext context, ITranscriptionProvider provider, TranscriptionRequest request, float[] samples, ulong seed)
    {
        HttpResponse response = context.Response;
        CancellationToken aborted = context.RequestAborted;
        var pending = System.Threading.Channels.Channel.CreateUnbounded<WhisperSegment>();
        Task<TranscriptionOutcome> run = provider.TranscribeAsync(new TranscriptionCall
        {
            Request = request,
            Samples = samples,
            Seed = seed,
            SegmentDone = s => pending.Writer.TryWrite(s),
        }, aborted);
        _ = run.ContinueWith(_ => pending.Writer.TryComplete(), TaskScheduler.Default);

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = Sse.ContentType;
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        bool first = true;
        try
        {
            await foreach (WhisperSegment segment in pending.Reader.ReadAllAsync(aborted).ConfigureAwait(false))
            {
                string delta = first ? segment.Text.TrimStart() : segment.Text;
                if (delta.Length == 0)
                {
                    continue;
                }

                first = false;
                await WriteEventAsync(response, new TranscriptTextDeltaEvent { Delta = delta }, TranscriptionJsonContext.Default.TranscriptTextDeltaEvent, aborted).ConfigureAwait(false);
            }

            TranscriptionOutcome outcome = await run.ConfigureAwait(false);
            await WriteEventAsync(response, new TranscriptTextDoneEvent
            {
                Text = outcome.Transcript.Text.Trim(),
                Logprobs = outcome.Logprobs,
                Usage = TranscriptionTokenUsage.For(outcome.Transcript.Duration, outcome.Transcript.Segments.Sum(s => s.Tokens.Count)),
            }, TranscriptionJsonContext.Default.TranscriptTextDoneEvent, aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client left; the run stops at its next step.
        }
        catch (ArgumentException ex)
        {
            ApiError error = LanguageError(request, ex);
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            Sse.WriteError(buffer, error);
            await response.Body.WriteAsync(buffer.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task WriteEventAsync<T>(HttpResponse response, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, CancellationToken ct)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        Sse.WriteData(buffer, value, typeInfo);
        await response.Body.WriteAsync(buffer.WrittenMemory, ct).ConfigureAwait(false);
        await response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "Transcription with {Model} forwarded upstream")]
    private static partial void LogForwarded(ILogger logger, string model);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "Upload {FileName} not decoded ({Failure}): {Reason}")]
    private static partial void LogUndecodable(ILogger logger, string fileName, AudioDecodeFailure failure, string reason);
}
