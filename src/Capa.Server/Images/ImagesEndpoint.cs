using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading.Channels;
using Capa.Engine.Images;
using Capa.Engine.Images.Encoding;
using Capa.Protocol;
using Capa.Protocol.Images;
using Capa.Server.Chat;
using Capa.Server.Errors;
using Capa.Server.Hosting;
using Capa.Server.Limits;
using Capa.Server.Passthrough;
using Capa.Server.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Images;

/// <summary>
/// <c>POST /v1/images/generations</c>, <c>/v1/images/edits</c> and <c>/v1/images/variations</c>, and <c>GET /images/{name}</c>
/// for the files behind <c>url</c> responses. Requests are validated with OpenAI's per-model rules, go to the local provider
/// that serves the model, else to the configured upstream unchanged, else get OpenAI's <c>model_not_found</c>.
/// </summary>
internal sealed partial class ImagesEndpoint
{
    /// <summary>The header that carries (and reports) the seed.</summary>
    public const string SeedHeader = "x-capa-seed";

    /// <summary>Where image files are served.</summary>
    public const string FilesPath = "/images";

    /// <summary>Largest multipart body of an edit or variation.</summary>
    public const long MaxFormBytes = 64L * 1024 * 1024;

    private readonly ModelRouter _router;
    private readonly ImageFileStore _files;
    private readonly ImageOptions _options;
    private readonly UpstreamForwarder _forwarder;
    private readonly TimeProvider _time;
    private readonly ImagePromptReviser _reviser;
    private readonly ILogger _logger;

    public ImagesEndpoint(ModelRouter router, ImageFileStore files, ImageOptions options, UpstreamForwarder forwarder, TimeProvider time, ImagePromptReviser reviser, ILogger<ImagesEndpoint> logger)
    {
        _router = router;
        _reviser = reviser;
        _files = files;
        _options = options;
        _forwarder = forwarder;
        _time = time;
        _logger = logger;
    }

    public async Task HandleGenerationsAsync(HttpContext context)
    {
        CancellationToken aborted = context.RequestAborted;
        HttpRequest http = context.Request;
        if (!ChatCompletionsEndpoint.IsJson(http.ContentType))
        {
            await ErrorWriter.WriteAsync(context, ApiError.UnsupportedMediaType(http.ContentType)).ConfigureAwait(false);
            return;
        }

        // Buffered, so that a model served upstream can be forwarded with the body as sent.
        http.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: ImageGenerationRequestReader.MaxBodyBytes + 1);
        using PooledBody? body = await BoundedBodyReader.ReadAsync(http, ImageGenerationRequestReader.MaxBodyBytes, aborted).ConfigureAwait(false);
        if (body is null)
        {
            await ErrorWriter.WriteAsync(context, ApiError.PayloadTooLarge(ImageGenerationRequestReader.MaxBodyBytes)).ConfigureAwait(false);
            return;
        }

        string model = ImageGenerationRequestReader.PeekModel(body.Memory.Span) ?? ImageModels.DefaultModel;
        IImageProvider? provider = await FindProviderAsync(model, aborted).ConfigureAwait(false);
        if (provider is null)
        {
            http.Body.Position = 0;
            if (await _forwarder.TryForwardAsync(context).ConfigureAwait(false))
            {
                return;
            }
        }

        if (!ImageGenerationRequestReader.TryRead(body.Memory.Span, out ImageGenerationRequest? request, out ApiError? error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        if (provider is null)
        {
            await ErrorWriter.WriteAsync(context, NoProvider(request.Model)).ConfigureAwait(false);
            return;
        }

        await RunAsync(context, provider, request, null, null, edit: false).ConfigureAwait(false);
    }

    public async Task HandleEditsAsync(HttpContext context, bool variation)
    {
        CancellationToken aborted = context.RequestAborted;
        HttpRequest http = context.Request;
        if (!http.HasFormContentType || !(http.ContentType ?? "").StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest(
                "This endpoint takes multipart/form-data with an 'image' file part" + (variation ? "." : " and a 'prompt' field."), null, "invalid_content_type")).ConfigureAwait(false);
            return;
        }

        if (http.ContentLength is { } declared && declared > MaxFormBytes)
        {
            await ErrorWriter.WriteAsync(context, FormTooLarge()).ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxFormBytes;
        }

        http.EnableBuffering(bufferThreshold: 1 << 20, bufferLimit: MaxFormBytes);
        context.Features.Set<IFormFeature>(new FormFeature(http, new FormOptions
        {
            MultipartBodyLengthLimit = MaxFormBytes,
            ValueCountLimit = 64,
            ValueLengthLimit = 1 << 20,
            BufferBody = true,
        }));
        IFormCollection form;
        try
        {
            form = await http.ReadFormAsync(aborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await ErrorWriter.WriteAsync(context, FormTooLarge()).ConfigureAwait(false);
            return;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest("The multipart form could not be parsed.", null, "invalid_multipart")).ConfigureAwait(false);
            return;
        }

        var fields = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (key, values) in form)
        {
            fields[key] = [.. values.Select(v => v ?? "")];
        }

        string model = fields.TryGetValue("model", out var models) && models.Count > 0 ? models[^1] : ImageModels.DefaultModel;
        IImageProvider? provider = await FindProviderAsync(model, aborted).ConfigureAwait(false);
        if (provider is null)
        {
            http.Body.Position = 0;
            if (await _forwarder.TryForwardAsync(context).ConfigureAwait(false))
            {
                return;
            }
        }

        var images = new List<ImageUpload>();
        foreach (IFormFile file in form.Files.Where(f => f.Name is "image" or "image[]"))
        {
            images.Add(new ImageUpload { Bytes = await ReadAsync(file, aborted).ConfigureAwait(false), FileName = file.FileName });
        }

        ImageUpload? mask = null;
        if (!variation && form.Files.GetFile("mask") is { } maskFile)
        {
            mask = new ImageUpload { Bytes = await ReadAsync(maskFile, aborted).ConfigureAwait(false), FileName = maskFile.FileName };
        }

        if (!ImageEditRequestReader.TryRead(fields, images, mask, variation, out ImageEditRequest? request, out ApiError? error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        if (provider is null)
        {
            await ErrorWriter.WriteAsync(context, NoProvider(request.Generation.Model)).ConfigureAwait(false);
            return;
        }

        if (!provider.CanEdit(request.Generation.Model))
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest(
                $"The model `{request.Generation.Model}` cannot edit images here: its pipeline has no vae_encoder.", "model", "unsupported_model")).ConfigureAwait(false);
            return;
        }

        RgbImage image;
        RgbImage? maskImage = null;
        try
        {
            image = ImageCodec.DecodeRgba(request.Images[0].Bytes.Span);
            if (request.Mask is { } m)
            {
                maskImage = ImageCodec.DecodeRgba(m.Bytes.Span);
                if (maskImage.Width != image.Width || maskImage.Height != image.Height)
                {
                    throw new ImageDecodeException("the mask and the image must have the same dimensions.");
                }
            }
        }
        catch (ImageDecodeException ex)
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest($"Invalid input image - {ex.Message}", "image", "invalid_image")).ConfigureAwait(false);
            return;
        }

        await RunAsync(context, provider, request.Generation, image, maskImage, edit: true).ConfigureAwait(false);
    }

    public async Task ServeFileAsync(HttpContext context, string name)
    {
        if (!_files.TryGet(name, out string path, out string contentType))
        {
            await ErrorWriter.WriteAsync(context, new ApiError(404, "This image does not exist or has expired (image URLs are valid for 60 minutes).", ApiError.InvalidRequestType, null, "image_not_found")).ConfigureAwait(false);
            return;
        }

        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await ErrorWriter.WriteAsync(context, new ApiError(404, "This image does not exist or has expired.", ApiError.InvalidRequestType, null, "image_not_found")).ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = bytes.Length;
        context.Response.Headers.CacheControl = "private, max-age=3600";
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The local provider of <paramref name="model"/> (an OpenAI image id, a configured alias or the model's own id), or null: an upstream's or nobody's.</summary>
    private async Task<IImageProvider?> FindProviderAsync(string model, CancellationToken cancellationToken)
    {
        ModelRoute? route = await _router.ResolveAsync<IImageProvider>(model, ModelCapabilities.Image, cancellationToken).ConfigureAwait(false);
        return route?.Provider as IImageProvider;
    }

    private static ApiError NoProvider(string model) => ApiError.ModelNotFound(model);

    /// <summary>What the response reports: transparent when asked for (and made), else opaque (auto included: diffusion paints every pixel).</summary>
    private static string BackgroundOf(ImageGenerationRequest request) =>
        string.Equals(request.Background, "transparent", StringComparison.Ordinal) ? "transparent" : "opaque";

    /// <summary>The 400 for <c>background: "transparent"</c> on a local model with no background-removal model to make the alpha channel.</summary>
    internal static ApiError TransparentUnsupported() => ApiError.InvalidRequest(
        "Transparent backgrounds need a background-removal model, and this server has none: its local image model paints opaque pixels only. "
        + "Put one in briaai/RMBG-1.4's ONNX layout (onnx/model.onnx, config.json, preprocessor_config.json) in the model store or name it in images.background_removal_model, "
        + "send background \"opaque\" or \"auto\", or route this model to an upstream that supports transparency.",
        "background",
        "unsupported_value");

    private async Task RunAsync(HttpContext context, IImageProvider provider, ImageGenerationRequest request, RgbImage? image, RgbImage? mask, bool edit)
    {
        CancellationToken aborted = context.RequestAborted;
        if (string.Equals(request.Background, "transparent", StringComparison.Ordinal) && !provider.CanMakeTransparent(request.Model))
        {
            // A diffusion model paints every pixel opaque; answering with an opaque image would break the caller silently.
            await ErrorWriter.WriteAsync(context, TransparentUnsupported()).ConfigureAwait(false);
            return;
        }

        ulong seed = request.Seed ?? ReadSeed(context.Request);
        context.Response.Headers[SeedHeader] = seed.ToString(CultureInfo.InvariantCulture);

        // dall-e-3 revises the prompt (in English, for CLIP) and reports exactly what the text encoder read.
        string? revised = null;
        if (request.Family == ImageModelFamily.DallE3)
        {
            try
            {
                revised = await _reviser.ReviseAsync(request.Prompt, seed, RequestIds.Get(context), aborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                LogCancelled(_logger, request.Model);
                return;
            }

            request = request with { Prompt = revised };
        }

        var call = new ImageCall { Request = request, Seed = seed, InputImage = image, Mask = mask };
        if (request.Stream)
        {
            await StreamAsync(context, provider, call, edit).ConfigureAwait(false);
            return;
        }

        ImageOutcome outcome;
        try
        {
            outcome = await provider.GenerateAsync(call, aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            LogCancelled(_logger, request.Model);
            return;
        }
        catch (ImageQueueFullException full)
        {
            await ErrorWriter.WriteAsync(context, ApiError.RateLimited(full.RetryAfterSeconds, "Too many image requests are waiting. Retry shortly.")).ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (e is DiffusionModelException or InvalidOperationException or NotSupportedException)
        {
            LogFailed(_logger, request.Model, e.Message);
            await ErrorWriter.WriteAsync(context, new ApiError(500, "The image model could not run; the server log has the details.", ApiError.ServerErrorType, null, "model_error")).ConfigureAwait(false);
            return;
        }

        ImageOutputFormat format = FormatOf(request);
        var data = new List<ImageData>(outcome.Images.Count);
        foreach (RgbImage result in outcome.Images)
        {
            byte[] bytes = ImageCodec.Encode(result, format, request.OutputCompression ?? 100);
            if (request.ResponseFormat == ImageResponseFormat.Url)
            {
                string name = _files.Add(bytes, ImageCodec.Extension(format), ImageCodec.ContentType(format));
                data.Add(new ImageData { Url = BaseUrl(context.Request) + FilesPath + "/" + name, RevisedPrompt = revised });
            }
            else
            {
                data.Add(new ImageData { B64Json = Convert.ToBase64String(bytes), RevisedPrompt = revised });
            }
        }

        var response = new ImagesResponse
        {
            Created = _time.GetUtcNow().ToUnixTimeSeconds(),
            Data = data,
            Background = request.IsGptImage ? BackgroundOf(request) : null,
            OutputFormat = request.IsGptImage ? request.OutputFormat : null,
            Size = request.IsGptImage ? SizeOf(request) : null,
            Quality = request.IsGptImage ? QualityOf(request) : null,
            Usage = request.IsGptImage ? Usage(request, outcome, image) : null,
        };
        byte[] json = CapaJsonContext.ToWireBytes(response, ImagesJsonContext.Default.ImagesResponse);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = json.Length;
        await context.Response.Body.WriteAsync(json, aborted).ConfigureAwait(false);
    }

    private async Task StreamAsync(HttpContext context, IImageProvider provider, ImageCall call, bool edit)
    {
        CancellationToken aborted = context.RequestAborted;
        ImageGenerationRequest request = call.Request;
        string prefix = edit ? "image_edit" : "image_generation";
        ImageOutputFormat format = FormatOf(request);
        int quality = request.OutputCompression ?? 100;
        var previews = Channel.CreateUnbounded<ImagePreview>(new UnboundedChannelOptions { SingleReader = true });
        Task<ImageOutcome> job;
        try
        {
            job = provider.GenerateAsync(call with { Preview = p => previews.Writer.TryWrite(p) }, aborted);
        }
        catch (ImageQueueFullException full)
        {
            await ErrorWriter.WriteAsync(context, ApiError.RateLimited(full.RetryAfterSeconds, "Too many image requests are waiting. Retry shortly.")).ConfigureAwait(false);
            return;
        }

        _ = job.ContinueWith(_ => previews.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        bool started = false;
        async Task StartAsync()
        {
            if (!started)
            {
                started = true;
                context.Response.StatusCode = 200;
                context.Response.ContentType = Sse.ContentType;
                context.Response.Headers.CacheControl = "no-cache";
                await context.Response.StartAsync(aborted).ConfigureAwait(false);
            }
        }

        try
        {
            await foreach (ImagePreview preview in previews.Reader.ReadAllAsync(aborted).ConfigureAwait(false))
            {
                await StartAsync().ConfigureAwait(false);
                await WriteEventAsync(context, prefix + ".partial_image", new ImagePartialEvent
                {
                    Type = prefix + ".partial_image",
                    B64Json = Convert.ToBase64String(ImageCodec.Encode(preview.Image, format, quality)),
                    Background = BackgroundOf(request),
                    CreatedAt = _time.GetUtcNow().ToUnixTimeSeconds(),
                    OutputFormat = request.OutputFormat,
                    PartialImageIndex = preview.PartialIndex,
                    Quality = QualityOf(request),
                    Size = SizeOf(request),
                }, ImagesJsonContext.Default.ImagePartialEvent).ConfigureAwait(false);
            }

            ImageOutcome outcome = await job.ConfigureAwait(false);
            await StartAsync().ConfigureAwait(false);
            foreach (RgbImage image in outcome.Images)
            {
                await WriteEventAsync(context, prefix + ".completed", new ImageCompletedEvent
                {
                    Type = prefix + ".completed",
                    B64Json = Convert.ToBase64String(ImageCodec.Encode(image, format, quality)),
                    Background = BackgroundOf(request),
                    CreatedAt = _time.GetUtcNow().ToUnixTimeSeconds(),
                    OutputFormat = request.OutputFormat,
                    Quality = QualityOf(request),
                    Size = SizeOf(request),
                    Usage = Usage(request, outcome, call.InputImage),
                }, ImagesJsonContext.Default.ImageCompletedEvent).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            LogCancelled(_logger, request.Model);
        }
        catch (ImageQueueFullException full)
        {
            await ErrorWriter.WriteAsync(context, ApiError.RateLimited(full.RetryAfterSeconds, "Too many image requests are waiting. Retry shortly.")).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DiffusionModelException or InvalidOperationException or NotSupportedException)
        {
            LogFailed(_logger, request.Model, e.Message);
            var error = new ApiError(500, "The image model could not run; the server log has the details.", ApiError.ServerErrorType, null, "model_error");
            if (started)
            {
                var buffer = new ArrayBufferWriter<byte>();
                Sse.WriteError(buffer, error);
                await context.Response.Body.WriteAsync(buffer.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            }
        }
    }

    private static async Task WriteEventAsync<T>(HttpContext context, string type, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write(System.Text.Encoding.UTF8.GetBytes("event: " + type + "\n"));
        Sse.WriteData(buffer, value, typeInfo);
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static ImageOutputFormat FormatOf(ImageGenerationRequest request) => request.OutputFormat switch
    {
        "jpeg" => ImageOutputFormat.Jpeg,
        "webp" => ImageOutputFormat.Webp,
        _ => ImageOutputFormat.Png,
    };

    private static string SizeOf(ImageGenerationRequest request) =>
        request.Width.ToString(CultureInfo.InvariantCulture) + "x" + request.Height.ToString(CultureInfo.InvariantCulture);

    // The GPT image models report the quality they rendered at; auto renders as medium (the model's standard steps).
    private static string QualityOf(ImageGenerationRequest request) => request.Quality == "auto" ? "medium" : request.Quality;

    private static ImagesUsage Usage(ImageGenerationRequest request, ImageOutcome outcome, RgbImage? input)
    {
        int inputImageTokens = input is null ? 0 : ((input.Width + 31) / 32) * ((input.Height + 31) / 32);
        return ImagesUsage.For(outcome.TextTokens, inputImageTokens, request.Width, request.Height, outcome.Images.Count);
    }

    private string BaseUrl(HttpRequest request)
    {
        if (_options.PublicBaseUrl is { Length: > 0 } configured)
        {
            return configured.TrimEnd('/');
        }

        string scheme = request.Scheme;
        string host = request.Host.Value ?? "localhost";
        if (_options.TrustForwardedHeaders)
        {
            if (request.Headers["X-Forwarded-Proto"].ToString().Split(',')[0].Trim() is { Length: > 0 } proto && proto is "http" or "https")
            {
                scheme = proto;
            }

            if (request.Headers["X-Forwarded-Host"].ToString().Split(',')[0].Trim() is { Length: > 0 } forwardedHost && HostString.FromUriComponent(forwardedHost).HasValue)
            {
                host = forwardedHost;
            }
        }

        return scheme + "://" + host + request.PathBase.Value;
    }

    private static ulong ReadSeed(HttpRequest http)
    {
        if (http.Headers.TryGetValue(SeedHeader, out var values) && ulong.TryParse(values.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed))
        {
            return seed;
        }

        // Without a seed, one is drawn and reported, so any image can be made again.
        return BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) >> 11;
    }

    private static async Task<ReadOnlyMemory<byte>> ReadAsync(IFormFile file, CancellationToken cancellationToken)
    {
        var bytes = new byte[file.Length];
        await using Stream stream = file.OpenReadStream();
        await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        return bytes;
    }

    private static ApiError FormTooLarge() => new(
        413,
        $"The request is larger than {MaxFormBytes / (1024 * 1024)} MB, the most this server accepts for image uploads.",
        ApiError.InvalidRequestType,
        "image",
        "request_too_large");

    [LoggerMessage(Level = LogLevel.Information, Message = "Image request for {Model} cancelled by the client.")]
    private static partial void LogCancelled(ILogger logger, string model);

    [LoggerMessage(Level = LogLevel.Error, Message = "Image model {Model} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string model, string reason);
}
