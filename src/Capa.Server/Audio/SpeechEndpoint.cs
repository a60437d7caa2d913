using System.Buffers;
using Capa.Engine.Speech;
using Capa.Media.Codecs;
using Capa.Media.Processes;
using Capa.Protocol;
using Capa.Protocol.Audio;
using Capa.Server.Chat;
using Capa.Server.Configuration;
using Capa.Server.Errors;
using Capa.Server.Hosting;
using Capa.Server.Limits;
using Capa.Server.Passthrough;
using Capa.Server.Providers.Upstream;
using Capa.Server.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Audio;

/// <summary>
/// <c>POST /v1/audio/speech</c>: content type, admission (429), size limit (413), validation (400), model (404),
/// voice (400), then audio as it is made — a chunked body of audio bytes, or <c>speech.audio.delta</c> events ending in
/// <c>speech.audio.done</c>. A voice or encoder that fails before the first byte gives OpenAI's 500 (nothing of the
/// failure is shown); after it, an SSE stream gets an error event and an audio stream is cut short.
/// </summary>
internal sealed class SpeechEndpoint(ServerSettings settings, RequestGate gate, ModelRouter router, UpstreamForwarder forwarder, ILogger<SpeechEndpoint> logger)
{
    /// <summary>The response header with the voice fingerprint: equal fingerprints and equal requests give equal bytes.</summary>
    public const string FingerprintHeader = "x-capa-voice-fingerprint";

    public async Task HandleAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        var requestId = RequestIds.Get(context);
        if (!ChatCompletionsEndpoint.IsJson(context.Request.ContentType))
        {
            await RejectAsync(context, requestId, ApiError.UnsupportedMediaType(context.Request.ContentType)).ConfigureAwait(false);
            return;
        }

        using var lease = await gate.EnterAsync(aborted).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            await RejectAsync(context, requestId, ApiError.RateLimited(settings.RetryAfterSeconds)).ConfigureAwait(false);
            return;
        }

        var maxBody = Math.Min(settings.MaxBodyBytes, SpeechRequestReader.MaxBodyBytes);
        using var body = await BoundedBodyReader.ReadAsync(context.Request, maxBody, aborted).ConfigureAwait(false);
        if (body is null)
        {
            await RejectAsync(context, requestId, ApiError.PayloadTooLarge(maxBody)).ConfigureAwait(false);
            return;
        }

        if (!SpeechRequestReader.TryRead(body.Memory.Span, out var request, out var invalid))
        {
            await RejectAsync(context, requestId, invalid).ConfigureAwait(false);
            return;
        }

        var route = await router.ResolveAsync<ISpeechProvider>(request.Model, ModelCapabilities.Speech, aborted).ConfigureAwait(false);
        if (route is null)
        {
            await RejectAsync(context, requestId, ApiError.ModelNotFound(request.Model)).ConfigureAwait(false);
            return;
        }

        if (route.Provider is UpstreamChatProvider upstream)
        {
            // No local model: the upstream gets the request as sent, with an alias's target as the model.
            SpeechLog.Forwarded(logger, requestId, request.Model);
            await forwarder.ForwardAsync(context, upstream.Options, UpstreamForwarder.JsonWithModel(body.Memory, route.TargetModel)).ConfigureAwait(false);
            return;
        }

        var provider = (ISpeechProvider)route.Provider;
        if (!provider.TryPrepare(request, route.TargetModel, out var job, out var refused))
        {
            await RejectAsync(context, requestId, refused).ConfigureAwait(false);
            return;
        }

        var events = request.StreamsEvents;
        SpeechLog.Speaking(logger, requestId, request.Model, job.VoiceId, job.Format.Name(), events ? "sse" : "audio");
        var response = context.Response;
        response.Headers[FingerprintHeader] = job.Fingerprint;

        // Headers go out with the first audio, so a failure before it can still be an honest 500.
        var started = false;
        void Start()
        {
            if (started)
            {
                return;
            }

            started = true;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = events ? Sse.ContentType : job.Format.ContentType();
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        }

        var writer = response.BodyWriter;
        try
        {
            var result = await job.RunAsync(
                async (chunk, ct) =>
                {
                    Start();
                    if (events)
                    {
                        Sse.WriteData(writer, new SpeechAudioDeltaEvent { Audio = Convert.ToBase64String(chunk.Span) }, SpeechJsonContext.Default.SpeechAudioDeltaEvent);
                    }
                    else
                    {
                        writer.Write(chunk.Span);
                    }

                    await writer.FlushAsync(ct).ConfigureAwait(false);
                },
                aborted).ConfigureAwait(false);

            Start();
            if (events)
            {
                var done = new SpeechAudioDoneEvent { Usage = SpeechUsage.For(request.Input, result.Duration) };
                Sse.WriteData(writer, done, SpeechJsonContext.Default.SpeechAudioDoneEvent);
                await writer.FlushAsync(aborted).ConfigureAwait(false);
            }

            SpeechLog.Spoken(logger, requestId, result.Duration.TotalSeconds, result.Bytes);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client left; the voice and encoder processes were killed by the cancellation.
        }
        catch (Exception ex) when (ex is SpeechSynthesisException or MediaProcessException)
        {
            SpeechLog.Failed(logger, requestId, started, ex);
            if (!started)
            {
                response.Headers.Remove(FingerprintHeader);
                await RejectAsync(context, requestId, ApiError.ServerError()).ConfigureAwait(false);
            }
            else if (events)
            {
                Sse.WriteError(writer, ApiError.ServerError());
                await writer.FlushAsync(aborted).ConfigureAwait(false);
            }
            else
            {
                // Audio bytes cannot carry an error: a cut connection tells the client the body is incomplete.
                context.Abort();
            }
        }
    }

    private Task RejectAsync(HttpContext context, string requestId, ApiError error)
    {
        ServerLog.Rejected(logger, requestId, error.Status, error.Code);
        return ErrorWriter.WriteAsync(context, error);
    }
}
