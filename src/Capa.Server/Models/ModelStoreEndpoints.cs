using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Capa.Models;
using Capa.Models.Hub;
using Capa.Models.Store;
using Capa.Protocol;
using Capa.Server.Chat;
using Capa.Server.Configuration;
using Capa.Server.Errors;
using Capa.Server.Hosting;
using Capa.Server.Limits;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Models;

/// <summary>
/// Capa's own model management, beside OpenAI's read-only <c>/v1/models</c>: <c>GET /capa/v1/models</c> lists the store
/// (size, variant, capabilities, fingerprint), <c>POST /capa/v1/models/pull</c> pulls a model from the hub streaming its
/// progress as server-sent events, <c>DELETE /capa/v1/models/{id}</c> removes one. They change the store, so like every
/// API route they need the API key when the server has one; they are not mapped when the server has no model store or
/// when model management is switched off.
/// </summary>
internal static partial class ModelStoreEndpoints
{
    /// <summary>The prefix of Capa's own API routes (not OpenAI's).</summary>
    public const string Prefix = "/capa/v1/models";

    /// <summary>The largest pull request body: three short strings.</summary>
    private const int MaxPullBodyBytes = 16 * 1024;

    /// <summary>Maps the routes over the store of <paramref name="options"/> when it has one and <paramref name="settings"/> allow management.</summary>
    public static IEndpointRouteBuilder MapModelStore(this IEndpointRouteBuilder endpoints, CapaServerOptions options, ServerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        if (options.ModelsDirectory is null || !settings.ModelManagement)
        {
            return endpoints;
        }

        var time = endpoints.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;
        var store = new ModelStore(options.ModelsDirectory, time);
        var hub = (options.HubOptions ?? HubClientOptions.FromEnvironment(options.GetEnvironmentVariable)) with { TimeProvider = time };
        endpoints.MapGet(Prefix, context => ListAsync(context, store));
        endpoints.MapPost(Prefix + "/pull", context => PullAsync(context, store, hub));
        endpoints.MapDelete(Prefix + "/{**id}", context => DeleteAsync(context, store));
        return endpoints;
    }

    private static Task ListAsync(HttpContext context, ModelStore store)
    {
        var list = new InstalledModelList { Data = [.. store.List().Select(InstalledModel.From)] };
        return WriteJsonAsync(context, list, ModelStoreJsonContext.Default.InstalledModelList);
    }

    private static async Task DeleteAsync(HttpContext context, ModelStore store)
    {
        var raw = context.Request.RouteValues["id"] as string ?? string.Empty;

        // Clients that escape the slash of "org/name" send %2F, which the server leaves encoded in the path.
        var id = raw.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(raw) : raw;
        if (!ModelId.IsValidLocal(id, out var invalid))
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest(invalid!, "model", "invalid_model_id")).ConfigureAwait(false);
            return;
        }

        var logger = Logger(context);
        var installed = store.Find(id);
        bool removed;
        try
        {
            removed = store.Remove(id);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogRemoveFailed(logger, RequestIds.Get(context), id, e.Message);
            await ErrorWriter.WriteAsync(context, new ApiError(500, $"The model '{id}' could not be removed; the server log says why.", ApiError.ServerErrorType, null, "remove_failed"))
                .ConfigureAwait(false);
            return;
        }

        if (!removed)
        {
            await ErrorWriter.WriteAsync(context, ApiError.ModelNotFound(id)).ConfigureAwait(false);
            return;
        }

        LogRemoved(logger, RequestIds.Get(context), installed?.Id ?? id);
        await WriteJsonAsync(context, new DeletedModel { Id = installed?.Id ?? id }, ModelStoreJsonContext.Default.DeletedModel).ConfigureAwait(false);
    }

    /// <summary>
    /// Pulls a model. Until the first file byte arrives (the hub has answered the file list and the download has
    /// begun) nothing is sent, so that an unknown repository, revision or variant is an ordinary error response with its
    /// status; from then on progress streams as events and a failure ends the stream with an error event. A client that
    /// disconnects cancels the download, and its bytes are deleted: an abandoned pull leaves nothing in the store.
    /// </summary>
    private static async Task PullAsync(HttpContext context, ModelStore store, HubClientOptions hubOptions)
    {
        var ct = context.RequestAborted;
        if (!ChatCompletionsEndpoint.IsJson(context.Request.ContentType))
        {
            await ErrorWriter.WriteAsync(context, ApiError.UnsupportedMediaType(context.Request.ContentType)).ConfigureAwait(false);
            return;
        }

        PullRequest? request;
        ApiError? error;
        using (var body = await BoundedBodyReader.ReadAsync(context.Request, MaxPullBodyBytes, ct).ConfigureAwait(false))
        {
            if (body is null)
            {
                await ErrorWriter.WriteAsync(context, ApiError.PayloadTooLarge(MaxPullBodyBytes)).ConfigureAwait(false);
                return;
            }

            if (!PullRequest.TryRead(body.Memory.Span, out request, out error))
            {
                await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
                return;
            }
        }

        var logger = Logger(context);
        var requestId = RequestIds.Get(context);
        var name = request.Reference.ToString();
        LogPullStarted(logger, requestId, name, request.Variant.Name(), hubOptions.Endpoint);

        using var client = new HubClient(hubOptions);
        var progress = Channel.CreateUnbounded<PullProgress>(new UnboundedChannelOptions { SingleReader = true });
        var pull = Task.Run(
            async () =>
            {
                try
                {
                    return await client.PullAsync(request.Reference, request.Variant, store, new ChannelProgress(progress.Writer), ct).ConfigureAwait(false);
                }
                finally
                {
                    progress.Writer.TryComplete();
                }
            },
            CancellationToken.None);

        var started = false;
        try
        {
            try
            {
                await foreach (var report in progress.Reader.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    // Asking for the file list says nothing the client does not know; the first real step opens the stream.
                    if (report.Stage == PullStage.Resolving)
                    {
                        continue;
                    }

                    if (!started)
                    {
                        StartStream(context.Response);
                        started = true;
                    }

                    await WriteEventAsync(context, PullProgressEvent.EventType, PullProgressEvent.From(name, report), ModelStoreJsonContext.Default.PullProgressEvent, ct)
                        .ConfigureAwait(false);
                }
            }
            finally
            {
                // The download observes the same token: once the client is gone it stops, and its lock is released.
                await ((Task)pull).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            var installed = await pull.ConfigureAwait(false);
            LogPulled(logger, requestId, installed.Id, installed.SizeBytes);
            if (!started)
            {
                StartStream(context.Response);
                started = true;
            }

            await WriteEventAsync(context, PullCompletedEvent.EventType, new PullCompletedEvent { Model = InstalledModel.From(installed) }, ModelStoreJsonContext.Default.PullCompletedEvent, ct)
                .ConfigureAwait(false);
            var done = new ArrayBufferWriter<byte>();
            Sse.WriteDone(done);
            await context.Response.Body.WriteAsync(done.WrittenMemory, ct).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or HubException or IOException)
        {
            var discarded = store.DiscardDownload(request.Reference.StoreId);
            LogPullCancelled(logger, requestId, name, discarded);
        }
        catch (HubException e)
        {
            LogPullFailed(logger, requestId, name, e.Kind.ToString(), e.Message);
            var failure = ToApiError(e);
            if (started)
            {
                var buffer = new ArrayBufferWriter<byte>();
                buffer.Write("event: error\n"u8);
                Sse.WriteError(buffer, failure);
                await context.Response.Body.WriteAsync(buffer.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await ErrorWriter.WriteAsync(context, failure).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The OpenAI-shaped error of a failed pull, with the status that says whose the fault is.</summary>
    internal static ApiError ToApiError(HubException e) => e.Kind switch
    {
        HubErrorKind.InvalidReference => ApiError.InvalidRequest(e.Message, "model", "invalid_model_id"),
        HubErrorKind.RepositoryNotFound => new ApiError(404, e.Message, ApiError.InvalidRequestType, "model", "model_not_found"),
        HubErrorKind.RevisionNotFound => new ApiError(404, e.Message, ApiError.InvalidRequestType, "revision", "revision_not_found"),
        HubErrorKind.VariantNotFound => ApiError.InvalidRequest(e.Message, "variant", "variant_not_found"),
        HubErrorKind.AccessDenied => new ApiError(403, e.Message, ApiError.InvalidRequestType, "model", "hub_access_denied"),
        HubErrorKind.Busy => new ApiError(409, e.Message, ApiError.InvalidRequestType, "model", "pull_in_progress"),
        HubErrorKind.DiskFull => new ApiError(507, e.Message, ApiError.ServerErrorType, null, "insufficient_storage"),
        HubErrorKind.StorageError => new ApiError(500, e.Message, ApiError.ServerErrorType, null, "storage_error"),
        HubErrorKind.ChecksumMismatch => new ApiError(502, e.Message, ApiError.ServerErrorType, null, "checksum_mismatch"),
        _ => new ApiError(502, e.Message, ApiError.ServerErrorType, null, "hub_unavailable"),
    };

    private static void StartStream(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = Sse.ContentType;
        response.Headers.CacheControl = "no-cache";

        // Reverse proxies (nginx) would otherwise hold the events back until the pull ends.
        response.Headers["X-Accel-Buffering"] = "no";
    }

    private static async Task WriteEventAsync<T>(HttpContext context, string type, T value, JsonTypeInfo<T> typeInfo, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write(Encoding.UTF8.GetBytes("event: " + type + "\n"));
        Sse.WriteData(buffer, value, typeInfo);
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, ct).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    private static Task WriteJsonAsync<T>(HttpContext context, T value, JsonTypeInfo<T> typeInfo)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    private static ILogger Logger(HttpContext context) =>
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ModelStoreEndpoints).FullName!);

    [LoggerMessage(2401, LogLevel.Information, "{RequestId} pulling {Model} ({Variant}) from {Endpoint}")]
    private static partial void LogPullStarted(ILogger logger, string requestId, string model, string variant, string endpoint);

    [LoggerMessage(2402, LogLevel.Information, "{RequestId} pulled {Model}: {Bytes} bytes installed")]
    private static partial void LogPulled(ILogger logger, string requestId, string model, long bytes);

    [LoggerMessage(2403, LogLevel.Information, "{RequestId} pull of {Model} cancelled by the client; download deleted: {Discarded}")]
    private static partial void LogPullCancelled(ILogger logger, string requestId, string model, bool discarded);

    [LoggerMessage(2404, LogLevel.Warning, "{RequestId} pull of {Model} failed ({Kind}): {Message}")]
    private static partial void LogPullFailed(ILogger logger, string requestId, string model, string kind, string message);

    [LoggerMessage(2405, LogLevel.Information, "{RequestId} removed model {Model}")]
    private static partial void LogRemoved(ILogger logger, string requestId, string model);

    [LoggerMessage(2406, LogLevel.Warning, "{RequestId} removing model {Model} failed: {Message}")]
    private static partial void LogRemoveFailed(ILogger logger, string requestId, string model, string message);

    /// <summary>Hands the hub client's reports to the writer, in order, without blocking the download.</summary>
    private sealed class ChannelProgress(ChannelWriter<PullProgress> writer) : IProgress<PullProgress>
    {
        public void Report(PullProgress value) => writer.TryWrite(value);
    }
}
