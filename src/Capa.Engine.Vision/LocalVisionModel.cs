using Capa.Engine.Text.Generation;
using Capa.Engine.Vision.Qwen2VL;
using Capa.Models;
using Capa.Models.Config;
using Capa.Templates;

namespace Capa.Engine.Vision;

/// <summary>
/// The pixel tensors of one image as the image processor made them: <paramref name="PixelValues"/> [tiles, 3, S, S]
/// (the global tile last), <paramref name="PixelAttentionMask"/> [tiles, S, S]; <paramref name="CacheKey"/> names the
/// image and its processing for the feature cache (null: not cached).
/// </summary>
public sealed record VisionImageInput(float[] PixelValues, bool[] PixelAttentionMask, int Tiles, int TileSize, string? CacheKey)
{
    /// <summary>Qwen2-VL: the patch grid (t, h, w) whose rows <see cref="PixelValues"/> holds; null for tiles.</summary>
    public (int T, int H, int W)? Grid { get; init; }

    /// <summary>Qwen2-VL: values per patch row (1176).</summary>
    public int PatchWidth { get; init; }

    /// <summary>The input of a Qwen2-VL image: its patch rows [t × h × w, patchWidth] and grid.</summary>
    public static VisionImageInput FromPatches(float[] rows, int patchWidth, int t, int h, int w, string? cacheKey) =>
        new(rows, [], 0, 0, cacheKey) { Grid = (t, h, w), PatchWidth = patchWidth };

    /// <summary>The input of a processed Qwen2-VL image.</summary>
    public static VisionImageInput FromPatches(Qwen2VLImageInputs inputs, string? cacheKey)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return FromPatches(inputs.PixelValues, inputs.PatchWidth, inputs.GridT, inputs.GridH, inputs.GridW, cacheKey);
    }
}

/// <summary>How a <see cref="LocalVisionModel"/> is loaded and run.</summary>
public sealed record LocalVisionModelOptions
{
    /// <summary>The ONNX files to run; null picks q4, then int8, fp32, fp16 (the first whose three graphs are present).</summary>
    public ModelVariant? Variant { get; init; }

    /// <summary>ONNX Runtime session settings (the encoder and embedding sessions use the same thread count).</summary>
    public OnnxDecoderOptions Decoder { get; init; } = new();

    /// <summary>Admission limits.</summary>
    public GenerationSchedulerOptions Scheduler { get; init; } = new();

    /// <summary>Where model file digests are cached; null: <c>.capa-digests.json</c> in the model's folder.</summary>
    public string? DigestCachePath { get; init; }

    /// <summary>More inputs to the <c>system_fingerprint</c> (e.g. the image processor's version), merged over the engine's own.</summary>
    public IReadOnlyDictionary<string, string>? ExtraFingerprintInputs { get; init; }

    /// <summary>The name the model is served under; null: the folder's name.</summary>
    public string? Name { get; init; }

    /// <summary>Most images whose features are cached (0: no cache). Default 32.</summary>
    public int FeatureCacheEntries { get; init; } = 32;

    /// <summary>Most bytes of cached features. Default 256 MiB.</summary>
    public long FeatureCacheBytes { get; init; } = 256L << 20;

    /// <summary>The clock a chat template's <c>strftime_now</c> reads; null: the system clock.</summary>
    public TimeProvider? TemplateClock { get; init; }
}

/// <summary>
/// A SmolVLM (Idefics3) or Qwen2-VL model ready to serve: the vision encoder, the token embedding and the decoder sessions, the
/// tokenizer and chat template, and the text generation engine. A request's prompt is embedded, the images' features
/// (from the bounded feature cache, or encoded) are written into the <c>&lt;image&gt;</c> positions, and the prefill runs
/// on those embeddings; decoding then runs the text engine's usual loop (its sampler, seeds, stop sequences and
/// scheduler), each new token embedded by <c>embed_tokens</c>. Qwen2-VL's decoder also gets the prompt's multimodal
/// rotary positions (<see cref="Qwen2VLRopeIndex"/>), and later tokens go on from its delta. Thread-safe; one instance
/// per model per process.
/// </summary>
public sealed class LocalVisionModel : IDisposable
{
    /// <summary>Version of how images become decoder inputs here (scatter order, caching); part of the fingerprint.</summary>
    public const string RuntimeVersion = "smolvlm-runtime/v1";

    /// <summary>The same for Qwen2-VL (patch rows, grid, multimodal positions).</summary>
    public const string Qwen2VLRuntimeVersion = "qwen2vl-runtime/v1";

    private readonly OnnxVisionEncoder? _encoder;
    private readonly OnnxQwen2VLVisionEncoder? _patchEncoder;
    private readonly OnnxTokenEmbedder _embedder;
    private readonly OnnxDecoderModel _decoder;
    private readonly ChatTemplate _template;
    private readonly TemplateDataMarking _marking;

    // Encoding an image takes every intra-op thread; a few at a time keeps a burst of images from multiplying memory.
    private readonly SemaphoreSlim _encoding = new(Math.Max(1, Environment.ProcessorCount / 2));

    private LocalVisionModel(string name, VisionModelFolder folder, IDisposable encoder, OnnxTokenEmbedder embedder, OnnxDecoderModel decoder,
        ChatTemplate template, TextGenerationEngine engine, VisionFeatureCache cache, IReadOnlyDictionary<string, string> fingerprintInputs)
    {
        Name = name;
        Folder = folder;
        _encoder = encoder as OnnxVisionEncoder;
        _patchEncoder = encoder as OnnxQwen2VLVisionEncoder;
        _embedder = embedder;
        _decoder = decoder;
        _template = template;
        _marking = new TemplateDataMarking(folder.Tokenizer.SpecialTokens, ["bos_token", "eos_token"]);
        Tokenizer = new HfGenerationTokenizer(folder.Tokenizer);
        Engine = engine;
        FeatureCache = cache;
        FingerprintInputs = fingerprintInputs;
        SystemFingerprint = Capa.Engine.Text.Generation.SystemFingerprint.Compute(fingerprintInputs);
    }

    /// <summary>The name the model is served under.</summary>
    public string Name { get; }

    // What strftime_now reads (LocalVisionModelOptions.TemplateClock); null: the system clock.
    private TimeProvider? TemplateClock { get; init; }

    /// <summary>The model folder.</summary>
    public VisionModelFolder Folder { get; }

    /// <summary>The tokenizer.</summary>
    public HfGenerationTokenizer Tokenizer { get; }

    /// <summary>The text generation engine (scheduler, sampler, decode loop) running the decoder.</summary>
    public TextGenerationEngine Engine { get; }

    /// <summary>The decoder (layer count, cache shapes, numerics options).</summary>
    public OnnxDecoderModel Decoder => _decoder;

    /// <summary>The feature cache.</summary>
    public VisionFeatureCache FeatureCache { get; }

    /// <summary>The model's context length in tokens.</summary>
    public int MaxContextLength => _decoder.MaxContextLength;

    /// <summary>Where the chat template came from.</summary>
    public string ChatTemplateSource => Folder.ChatTemplateSource;

    /// <summary>What <see cref="SystemFingerprint"/> hashes.</summary>
    public IReadOnlyDictionary<string, string> FingerprintInputs { get; }

    /// <summary>OpenAI's <c>system_fingerprint</c> of this configuration.</summary>
    public string SystemFingerprint { get; }

    /// <summary>Loads a SmolVLM folder and creates its three sessions.</summary>
    /// <exception cref="ModelFolderException">The folder is incomplete or a graph's I/O does not fit; the message says what.</exception>
    public static LocalVisionModel Load(string directory, LocalVisionModelOptions? options = null)
    {
        options ??= new LocalVisionModelOptions();
        var folder = VisionModelFolder.Load(directory, options.Variant);
        ChatTemplate template;
        try
        {
            template = ChatTemplate.Parse(folder.ChatTemplate);
        }
        catch (TemplateException ex)
        {
            throw new ModelFolderException($"The chat template of '{folder.Directory}' ({folder.ChatTemplateSource}) cannot be parsed: {ex.Message}", ex);
        }

        var threads = options.Decoder.IntraOpThreads;
        var disposables = new List<IDisposable>(3);
        try
        {
            IDisposable encoder = folder.Family == VisionFamily.Qwen2VL
                ? OnnxQwen2VLVisionEncoder.Load(folder.VisionEncoderPath, folder.TextHiddenSize, threads)
                : OnnxVisionEncoder.Load(folder.VisionEncoderPath, folder.TextHiddenSize, threads);
            disposables.Add(encoder);
            var embedder = OnnxTokenEmbedder.Load(folder.EmbedTokensPath, folder.TextHiddenSize, threads);
            disposables.Add(embedder);
            if (embedder.HiddenSize != folder.TextHiddenSize)
            {
                throw new ModelFolderException($"'{folder.EmbedTokensPath}' gives {embedder.HiddenSize}-wide embeddings; config.json's text_config.hidden_size is {folder.TextHiddenSize}.");
            }

            var decoder = OnnxDecoderModel.Load(folder.DecoderPath, folder.TextConfig, options.Decoder, embedder);
            disposables.Add(decoder);
            if (!decoder.TakesEmbeddings)
            {
                throw new ModelFolderException($"'{folder.DecoderPath}' takes input_ids: a vision-language decoder takes inputs_embeds, so that image features can be fed.");
            }

            if (folder.Family == VisionFamily.Qwen2VL && !decoder.MultimodalPositionRows)
            {
                throw new ModelFolderException($"'{folder.DecoderPath}' takes position_ids of one row: a Qwen2-VL decoder takes [3, batch, seq] (multimodal RoPE).");
            }

            var digests = new FileDigestCache(options.DigestCachePath ?? Path.Combine(folder.Directory, ".capa-digests.json"));
            var inputs = FingerprintInputsOf(folder, decoder, digests);
            foreach (var (key, value) in options.ExtraFingerprintInputs ?? new Dictionary<string, string>())
            {
                inputs[key] = value;
            }

            // Prompts reach this decoder as embeddings (image features among them), which the prefix cache does not key.
            var engine = new TextGenerationEngine(decoder, new HfGenerationTokenizer(folder.Tokenizer), folder.EosTokenIds, options.Scheduler, prefixCacheBytes: 0);
            var cache = new VisionFeatureCache(options.FeatureCacheEntries, options.FeatureCacheBytes);
            var name = options.Name ?? Path.GetFileName(folder.Directory.TrimEnd(Path.DirectorySeparatorChar));
            return new LocalVisionModel(name, folder, encoder, embedder, decoder, template, engine, cache, inputs) { TemplateClock = options.TemplateClock };
        }
        catch
        {
            for (var i = disposables.Count - 1; i >= 0; i--)
            {
                disposables[i].Dispose();
            }

            throw;
        }
    }

    private static SortedDictionary<string, string> FingerprintInputsOf(VisionModelFolder folder, OnnxDecoderModel decoder, FileDigestCache digests)
    {
        var inputs = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["engine.version"] = Capa.Engine.Text.Generation.SystemFingerprint.EngineVersion,
            ["onnxruntime.version"] = Capa.Engine.Text.Generation.SystemFingerprint.OnnxRuntimeVersion,
            ["sampler"] = Capa.Engine.Text.Generation.SystemFingerprint.SamplerVersion,
            ["vision.runtime"] = folder.Family == VisionFamily.Qwen2VL ? Qwen2VLRuntimeVersion : RuntimeVersion,
            ["model.variant"] = folder.Variant.Name(),
            ["chat_template.source"] = folder.ChatTemplateSource,
        };
        foreach (var file in folder.OnnxFiles)
        {
            inputs["model.file.onnx/" + Path.GetFileName(file)] = digests.GetSha256(file);
        }

        foreach (var name in new[]
        {
            "config.json", "generation_config.json", "preprocessor_config.json", "processor_config.json", "tokenizer.json",
            "tokenizer_config.json", "chat_template.json", "chat_template.jinja",
        })
        {
            var path = Path.Combine(folder.Directory, name);
            if (File.Exists(path))
            {
                inputs["model.file." + name] = digests.GetSha256(path);
            }
        }

        foreach (var (key, value) in decoder.NumericsOptions)
        {
            inputs[key] = value;
        }

        return inputs;
    }

    /// <summary>
    /// Renders the chat template (messages whose image parts are <c>{"type": "image"}</c>); <c>bos_token</c>,
    /// <c>eos_token</c> and <c>add_generation_prompt = true</c> are added unless given. Message text that writes a special
    /// token (such as <c>&lt;image&gt;</c>) is marked, so that it is read as plain text, not as an image.
    /// </summary>
    /// <exception cref="GenerationRequestException">The template failed.</exception>
    public MarkedText RenderPrompt(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var all = new Dictionary<string, object?>(variables, StringComparer.Ordinal);
        all.TryAdd("add_generation_prompt", true);
        all.TryAdd("bos_token", Folder.BosToken ?? string.Empty);
        all.TryAdd("eos_token", Folder.EosToken ?? string.Empty);
        var perToken = Folder.Tokenizer.MaxCharsPerToken;
        int? limit = perToken is { } chars ? (int)Math.Min(int.MaxValue - 1, Math.Ceiling(chars * MaxContextLength)) : null;
        try
        {
            return _template.RenderMarked(all, _marking, TemplateClock, maxOutputChars: limit);
        }
        catch (TemplateException ex) when (ex.Kind == TemplateErrorKind.OutputLimit)
        {
            throw new ContextLengthExceededException(MaxContextLength, MaxContextLength + 1L);
        }
        catch (TemplateException ex)
        {
            throw new GenerationRequestException($"The model's chat template rejected the messages: {ex.Message}", "messages", "invalid_chat_template_input");
        }
    }

    /// <summary>Tokenizes a rendered prompt: the template's markup as control tokens, text that message data wrote as plain text.</summary>
    /// <exception cref="ContextLengthExceededException">The prompt provably needs the whole context or more.</exception>
    public IReadOnlyList<int> Tokenize(MarkedText prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var minimum = Folder.Tokenizer.MinimumTokenCount(prompt.Text);
        if (minimum >= MaxContextLength)
        {
            throw new ContextLengthExceededException(MaxContextLength, minimum);
        }

        return Folder.Tokenizer.Encode(prompt.Text, prompt.DataPositions);
    }

    /// <summary>
    /// Replaces the prompt's <c>&lt;image&gt;</c> tokens, in order, by the token expansion of each image (the image
    /// processor's prompt text: <c>&lt;fake_token_around_image&gt;</c>, row/column or global markers and
    /// <c>image_seq_len</c> × <c>&lt;image&gt;</c> per tile). The expansion begins and ends with a special token, so
    /// tokenizing it alone gives the ids it would have in place.
    /// </summary>
    /// <exception cref="GenerationRequestException">The prompt has a different number of images than <paramref name="imagePromptTexts"/>.</exception>
    public IReadOnlyList<int> ExpandImages(IReadOnlyList<int> promptIds, IReadOnlyList<string> imagePromptTexts)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        ArgumentNullException.ThrowIfNull(imagePromptTexts);
        var imageToken = Folder.ImageTokenId;
        var placeholders = promptIds.Count(id => id == imageToken);
        if (placeholders != imagePromptTexts.Count)
        {
            throw new GenerationRequestException(
                $"The chat template wrote {placeholders} image placeholders for {imagePromptTexts.Count} images.", "messages", null);
        }

        var result = new List<int>(promptIds.Count + imagePromptTexts.Sum(t => t.Length / 4));
        var next = 0;
        foreach (var id in promptIds)
        {
            if (id == imageToken)
            {
                result.AddRange(Folder.Tokenizer.Encode(imagePromptTexts[next++]));
            }
            else
            {
                result.Add(id);
            }
        }

        return result;
    }

    /// <summary>The features of one image, [tiles × image_seq_len, hidden], from the cache or the vision encoder.</summary>
    /// <remarks>The array may be shared with the cache: do not write to it.</remarks>
    public float[] EncodeImage(VisionImageInput image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image.CacheKey is { } key ? FeatureCache.GetOrAdd(CacheKeyOf(key, image), () => Encode(image)) : Encode(image);
    }

    // The key names the processed pixels' shape too, so an image seen at another detail level is encoded again.
    private static string CacheKeyOf(string key, VisionImageInput image) => image.Grid is { } grid
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{key}/{grid.T}x{grid.H}x{grid.W}")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{key}/{image.Tiles}x{image.TileSize}");

    /// <summary>The feature rows (image tokens) an image gives: tiles × image_seq_len, or t × h × w / merge².</summary>
    public int FeatureRows(VisionImageInput image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image.Grid is { } grid
            ? grid.T * grid.H * grid.W / Math.Max(1, Folder.MergeSize * Folder.MergeSize)
            : image.Tiles * Folder.ImageSeqLen;
    }

    private float[] Encode(VisionImageInput image)
    {
        if (_patchEncoder is { } patchEncoder)
        {
            if (image.Grid is not { } grid)
            {
                throw new ArgumentException("A Qwen2-VL model takes patch rows and a grid, not tiles.", nameof(image));
            }

            _encoding.Wait();
            try
            {
                return patchEncoder.Encode(image.PixelValues, image.PatchWidth, grid.T, grid.H, grid.W);
            }
            finally
            {
                _encoding.Release();
            }
        }

        if (image.TileSize != Folder.TileSize)
        {
            throw new ArgumentException($"The model's tiles are {Folder.TileSize} pixels; the image was processed to {image.TileSize}.", nameof(image));
        }

        _encoding.Wait();
        try
        {
            return _encoder!.Encode(image.PixelValues, image.PixelAttentionMask, image.Tiles, image.TileSize);
        }
        finally
        {
            _encoding.Release();
        }
    }

    /// <summary>
    /// The prompt's input embeddings, row-major [prompt, hidden]: every token embedded by <c>embed_tokens</c>, then the
    /// images' feature rows written, in order, into the <c>&lt;image&gt;</c> positions (as transformers'
    /// <c>merge_input_ids_with_image_features</c>).
    /// </summary>
    /// <exception cref="GenerationRequestException">The prompt's image tokens and the images' feature rows differ in number.</exception>
    public float[] BuildPromptEmbeddings(IReadOnlyList<int> promptIds, IReadOnlyList<VisionImageInput> images)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        ArgumentNullException.ThrowIfNull(images);
        var hidden = Folder.TextHiddenSize;
        var ids = promptIds as int[] ?? [.. promptIds];
        var imageToken = Folder.ImageTokenId;
        var positions = ids.Count(id => id == imageToken);
        var expected = images.Sum(i => (long)FeatureRows(i));
        if (positions != expected)
        {
            throw new GenerationRequestException(
                $"The prompt has {positions} image tokens but its images give {expected} feature rows.", "messages", null);
        }

        var embeddings = new float[ids.Length * hidden];
        _embedder.Embed(ids, embeddings);
        var position = 0;
        foreach (var image in images)
        {
            var features = EncodeImage(image);
            if (features.Length != (long)FeatureRows(image) * hidden)
            {
                throw new InvalidOperationException($"The vision encoder gave {features.Length / hidden} feature rows for an image; {FeatureRows(image)} expected.");
            }

            for (var row = 0; row < features.Length / hidden; row++)
            {
                while (ids[position] != imageToken)
                {
                    position++;
                }

                features.AsSpan(row * hidden, hidden).CopyTo(embeddings.AsSpan(position * hidden, hidden));
                position++;
            }
        }

        return embeddings;
    }

    /// <summary>
    /// Starts a generation whose prompt holds images: the context length is checked first, then the images are encoded
    /// (or found in the cache) and scattered into the prompt's embeddings, then the text engine prefills on them and
    /// decodes as for any chat request.
    /// </summary>
    /// <exception cref="GenerationRequestException">A parameter is out of range, or images and image tokens do not match.</exception>
    /// <exception cref="ContextLengthExceededException">The prompt does not fit.</exception>
    public async Task<GenerationStream> StartAsync(GenerationRequest request, IReadOnlyList<VisionImageInput> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(images);
        if (request.PromptTokens.Count >= MaxContextLength)
        {
            throw new ContextLengthExceededException(MaxContextLength, request.PromptTokens.Count);
        }

        if (images.Count == 0 && !request.PromptTokens.Contains(Folder.ImageTokenId))
        {
            return await Engine.StartAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var embeddings = await Task.Run(() => BuildPromptEmbeddings(request.PromptTokens, images), cancellationToken).ConfigureAwait(false);
        return await Engine.StartAsync(request with { PromptEmbeddings = embeddings, PromptPositions = PromptPositions(request.PromptTokens, images) }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The prompt's multimodal rotary positions for a Qwen2-VL model (null for SmolVLM): text counts on, each image's
    /// tokens get its merged grid's (frame, row, column), as <c>get_rope_index</c> computes them.
    /// </summary>
    /// <exception cref="GenerationRequestException">The prompt's images and the inputs disagree.</exception>
    public MultimodalPositions? PromptPositions(IReadOnlyList<int> promptIds, IReadOnlyList<VisionImageInput> images)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        ArgumentNullException.ThrowIfNull(images);
        if (Folder.Family != VisionFamily.Qwen2VL)
        {
            return null;
        }

        try
        {
            var grids = images.Select(i => i.Grid ?? throw new ArgumentException("A Qwen2-VL model takes patch rows and a grid, not tiles.")).ToArray();
            var rope = Qwen2VLRopeIndex.Compute(promptIds, Folder.ImageTokenId, Folder.VisionStartTokenId, grids, Folder.MergeSize);
            return new MultimodalPositions(rope.Positions, rope.Length, rope.Delta);
        }
        catch (ArgumentException ex)
        {
            throw new GenerationRequestException(ex.Message.Split(" (Parameter", 2)[0], "messages", null);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Engine.Dispose();
        _decoder.Dispose();
        _embedder.Dispose();
        _encoder?.Dispose();
        _patchEncoder?.Dispose();
        _encoding.Dispose();
    }
}
