using System.Runtime.InteropServices;
using System.Text.Json;
using Capa.Protocol;
using Capa.Protocol.Embeddings;
using Capa.Protocol.Responses;
using Capa.Server.Chat;
using Capa.Server.Configuration;
using Capa.Server.Errors;
using Capa.Server.Hosting;
using Capa.Server.Limits;
using Capa.Server.Passthrough;
using Capa.Server.Responses;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Embeddings;

/// <summary>
/// <c>POST /v1/embeddings</c>: a local sentence encoder when one serves the model, else the upstream, else OpenAI's 404.
/// The input is embedded as sent, as OpenAI does: a model's query/passage prefixes (e5's <c>query: </c>,
/// <c>passage: </c>) are the client's to add here; vector stores add them themselves.
/// </summary>
internal sealed class EmbeddingsEndpoint
{
    private readonly ServerSettings _settings;
    private readonly ChatRequestLimits _limits;
    private readonly EmbeddingService _embeddings;
    private readonly UpstreamForwarder _forwarder;
    private readonly ILogger<EmbeddingsEndpoint> _logger;

    public EmbeddingsEndpoint(ServerSettings settings, EmbeddingService embeddings, UpstreamForwarder forwarder, ILogger<EmbeddingsEndpoint> logger)
    {
        _settings = settings;
        _limits = ChatRequestLimits.Default with { MaxBodyBytes = (int)Math.Min(settings.MaxBodyBytes, int.MaxValue), MaxDepth = settings.MaxJsonDepth };
        _embeddings = embeddings;
        _forwarder = forwarder;
        _logger = logger;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        if (!ChatCompletionsEndpoint.IsJson(context.Request.ContentType))
        {
            await ErrorWriter.WriteAsync(context, ApiError.UnsupportedMediaType(context.Request.ContentType)).ConfigureAwait(false);
            return;
        }

        // The body may have to go upstream unchanged after the model is known.
        context.Request.EnableBuffering();
        EmbeddingRequest? request;
        using (var body = await BoundedBodyReader.ReadAsync(context.Request, _settings.MaxBodyBytes, ct).ConfigureAwait(false))
        {
            if (body is null)
            {
                await ErrorWriter.WriteAsync(context, ApiError.PayloadTooLarge(_settings.MaxBodyBytes)).ConfigureAwait(false);
                return;
            }

            if (!ResponseRequestReader.TryParseObject(body.Memory.Span, _limits, out var root, out var parseError)
                || !EmbeddingRequestReader.TryRead(root, out request, out parseError))
            {
                await ErrorWriter.WriteAsync(context, parseError!).ConfigureAwait(false);
                return;
            }
        }

        LocalEmbeddingModel? model;
        try
        {
            model = _embeddings.Resolve(request.Model);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or JsonException or UnauthorizedAccessException)
        {
            await ErrorWriter.WriteAsync(context, new ApiError(500, $"The embedding model for `{request.Model}` could not be loaded.", ApiError.ServerErrorType, null, "model_load_failed")).ConfigureAwait(false);
            return;
        }

        if (model is null)
        {
            context.Request.Body.Position = 0;
            if (!await _forwarder.TryForwardAsync(context).ConfigureAwait(false))
            {
                await ErrorWriter.WriteAsync(context, ApiError.ModelNotFound(request.Model)).ConfigureAwait(false);
            }

            return;
        }

        var encoder = model.Encoder;
        if (request.Dimensions is { } dimensions && dimensions > encoder.Dimensions)
        {
            await ErrorWriter.WriteAsync(context, EmbeddingRequestReader.DimensionsTooLarge(dimensions, encoder.Dimensions, request.Model)).ConfigureAwait(false);
            return;
        }

        var tokens = 0;
        IReadOnlyList<int[]> sequences;
        if (request.Texts is { } texts)
        {
            var tokenized = new int[texts.Count][];
            for (var i = 0; i < texts.Count; i++)
            {
                // Tokenizing stops past the context: a huge input is refused for what its first tokens prove.
                tokenized[i] = encoder.Tokenize(texts[i], encoder.MaxTokens, out var complete);
                if (!complete || tokenized[i].Length > encoder.MaxTokens)
                {
                    await ErrorWriter.WriteAsync(context, EmbeddingRequestReader.InputTooLong(i, tokenized[i].Length, encoder.MaxTokens, atLeast: !complete)).ConfigureAwait(false);
                    return;
                }
            }

            sequences = tokenized;
        }
        else
        {
            sequences = request.TokenIds!;
            for (var i = 0; i < sequences.Count; i++)
            {
                if (sequences[i].Length > encoder.MaxTokens)
                {
                    await ErrorWriter.WriteAsync(context, EmbeddingRequestReader.InputTooLong(i, sequences[i].Length, encoder.MaxTokens)).ConfigureAwait(false);
                    return;
                }

                foreach (var id in sequences[i])
                {
                    if (id >= encoder.Tokenizer.VocabSize)
                    {
                        await ErrorWriter.WriteAsync(context, EmbeddingRequestReader.InvalidTokenId(id, encoder.Tokenizer.VocabSize)).ConfigureAwait(false);
                        return;
                    }
                }
            }
        }

        tokens = sequences.Sum(s => s.Length);
        var vectors = await _embeddings.EncodeAsync(model, null, sequences, ct).ConfigureAwait(false);
        var data = new EmbeddingObject[vectors.Length];
        for (var i = 0; i < vectors.Length; i++)
        {
            var vector = vectors[i];
            if (request.Dimensions is { } d && d < vector.Length)
            {
                // OpenAI's shortened embeddings: the first d dimensions, scaled back to unit length.
                vector = vector[..d];
                Capa.Engine.Embeddings.SentenceEncoder.Normalize(vector);
            }

            data[i] = new EmbeddingObject
            {
                Index = i,
                Embedding = request.Base64
                    ? JsonSerializer.SerializeToElement(Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan())), EmbeddingsJsonContext.Default.String)
                    : JsonSerializer.SerializeToElement(vector, EmbeddingsJsonContext.Default.SingleArray),
            };
        }

        EmbeddingsLog.Embedded(_logger, RequestIds.Get(context), request.Model, model.Id, vectors.Length, tokens);
        var response = new EmbeddingResponse { Data = data, Model = request.Model, Usage = new EmbeddingUsage { PromptTokens = tokens, TotalTokens = tokens } };
        await ResponsesEndpoint.WriteJsonAsync(context, CapaJsonContext.ToWireBytes(response, EmbeddingsJsonContext.Default.EmbeddingResponse)).ConfigureAwait(false);
    }
}
