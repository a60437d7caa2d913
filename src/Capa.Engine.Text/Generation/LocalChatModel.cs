using Capa.Models;
using Capa.Models.Config;
using Capa.Templates;
using Capa.Tokenizers;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// A chat model ready to serve: its folder, tokenizer, chat template, ONNX decoder, scheduler and fingerprint.
/// Thread-safe; one instance per model per process.
/// </summary>
public sealed class LocalChatModel : IDisposable
{
    private readonly ChatTemplate _template;
    private readonly TemplateDataMarking _marking;

    // Rendering and tokenizing a long prompt allocate in proportion to it (the text, its normalized form, pieces,
    // ids): a few at a time, so a burst of long prompts waits instead of multiplying that memory.
    private readonly SemaphoreSlim _preparing = new(Math.Max(1, Environment.ProcessorCount));
    private readonly OnnxDecoderModel _decoder;

    private LocalChatModel(string name, ModelFolder folder, HfGenerationTokenizer tokenizer, ChatTemplate template, string templateSource,
        OnnxDecoderModel decoder, TextGenerationEngine engine, IReadOnlyDictionary<string, string> fingerprintInputs)
    {
        Name = name;
        Folder = folder;
        Tokenizer = tokenizer;
        _template = template;

        // Message text (everything but the model's own bos/eos strings) can write special tokens only as plain text.
        _marking = new TemplateDataMarking(tokenizer.Tokenizer.SpecialTokens, ["bos_token", "eos_token"]);
        ChatTemplateSource = templateSource;
        _decoder = decoder;
        Engine = engine;
        FingerprintInputs = fingerprintInputs;
        SystemFingerprint = Generation.SystemFingerprint.Compute(fingerprintInputs);
    }

    /// <summary>The name the model is served under.</summary>
    public string Name { get; }

    // What strftime_now reads (LocalChatModelOptions.TemplateClock); null: the system clock.
    private TimeProvider? TemplateClock { get; init; }

    /// <summary>The model folder.</summary>
    public ModelFolder Folder { get; }

    /// <summary>The tokenizer.</summary>
    public HfGenerationTokenizer Tokenizer { get; }

    /// <summary>Where the chat template came from: a file of the folder, or <c>built-in:FAMILY</c> when the folder has none.</summary>
    public string ChatTemplateSource { get; }

    /// <summary>The ONNX decoder (layer count, cache shapes, numerics options).</summary>
    public OnnxDecoderModel Decoder => _decoder;

    /// <summary>The generation engine and its scheduler.</summary>
    public TextGenerationEngine Engine { get; }

    /// <summary>The model's context length in tokens.</summary>
    public int MaxContextLength => _decoder.MaxContextLength;

    /// <summary>What <see cref="SystemFingerprint"/> hashes: versions, file digests, variant, execution provider options.</summary>
    public IReadOnlyDictionary<string, string> FingerprintInputs { get; }

    /// <summary>OpenAI's <c>system_fingerprint</c> of this configuration (<c>fp_</c> + 10 hex digits).</summary>
    public string SystemFingerprint { get; }

    /// <summary>
    /// Sampling defaults from <c>generation_config.json</c> that OpenAI's API cannot express: <c>top_k</c>. (Temperature
    /// and top_p follow OpenAI's defaults of 1 unless the request sets them, so that requests mean the same everywhere.)
    /// </summary>
    public int DefaultTopK => Folder.Generation.TopK is > 0 and var k ? k : 0;

    /// <summary>Loads a model folder and creates its session.</summary>
    /// <exception cref="ModelFolderException">The folder is incomplete, unsupported or its graph cannot be run.</exception>
    public static LocalChatModel Load(string directory, LocalChatModelOptions? options = null)
    {
        options ??= new LocalChatModelOptions();
        var folder = ModelFolder.Load(directory, options.Variant);
        HfTokenizer hf;
        try
        {
            hf = HfTokenizer.FromFolder(folder.Directory);
        }
        catch (Exception ex) when (ex is IOException or FormatException or InvalidDataException or ArgumentException or System.Text.Json.JsonException or NotSupportedException)
        {
            throw new ModelFolderException($"The tokenizer of '{folder.Directory}' cannot be loaded: {ex.Message}", ex);
        }

        var source = folder.ChatTemplateSource;
        var templateText = folder.ChatTemplate;
        if (templateText is null)
        {
            var family = BuiltInTemplateFamily(folder.Config.Family);
            templateText = KnownTemplates.Get(family);
            source = "built-in:" + family;
        }

        ChatTemplate template;
        try
        {
            template = ChatTemplate.Parse(templateText);
        }
        catch (TemplateException ex)
        {
            throw new ModelFolderException($"The chat template of '{folder.Directory}' ({source}) cannot be parsed: {ex.Message}", ex);
        }

        var decoder = OnnxDecoderModel.Load(folder, options.Decoder);
        try
        {
            var tokenizer = new HfGenerationTokenizer(hf);
            var digests = new FileDigestCache(options.DigestCachePath ?? Path.Combine(folder.Directory, ".capa-digests.json"));
            var inputs = SystemFingerprintInputs(folder, decoder, digests, source!);
            foreach (var (key, value) in options.ExtraFingerprintInputs ?? new Dictionary<string, string>())
            {
                inputs[key] = value;
            }
            var engine = new TextGenerationEngine(decoder, tokenizer, folder.EosTokenIds, options.Scheduler, options.PrefixCacheBytes);
            var name = options.Name ?? Path.GetFileName(folder.Directory.TrimEnd(Path.DirectorySeparatorChar));
            return new LocalChatModel(name, folder, tokenizer, template, source!, decoder, engine, inputs) { TemplateClock = options.TemplateClock };
        }
        catch
        {
            decoder.Dispose();
            throw;
        }
    }

    private static SortedDictionary<string, string> SystemFingerprintInputs(ModelFolder folder, OnnxDecoderModel decoder, FileDigestCache digests, string templateSource)
    {
        var inputs = Generation.SystemFingerprint.EngineInputs(folder, decoder.NumericsOptions, digests);
        inputs["chat_template.source"] = templateSource;
        return inputs;
    }

    /// <summary>The built-in template used when a folder carries none.</summary>
    public static string BuiltInTemplateFamily(ModelFamily family) => family switch
    {
        ModelFamily.Qwen2 => "qwen2.5",
        ModelFamily.Qwen3 => "qwen3",
        ModelFamily.Llama => "llama3.2",
        ModelFamily.Phi3 => "phi3.5",
        ModelFamily.Gemma2 => "gemma2",
        ModelFamily.Gemma3 => "gemma3",
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    /// <summary>
    /// Renders the chat template. <paramref name="variables"/> holds <c>messages</c> (and <c>tools</c> when any); the
    /// model's <c>bos_token</c>, <c>eos_token</c> and <c>add_generation_prompt = true</c> are added unless given.
    /// The result marks where message text (every variable but <c>bos_token</c> and <c>eos_token</c>) wrote a special
    /// token, which <see cref="Tokenize(MarkedText)"/> then reads as plain text.
    /// </summary>
    /// <exception cref="GenerationRequestException">The template failed (its own message is quoted: a 400 for the client).</exception>
    public MarkedText RenderPrompt(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var all = new Dictionary<string, object?>(variables, StringComparer.Ordinal);
        all.TryAdd("add_generation_prompt", true);
        all.TryAdd("bos_token", Folder.BosToken ?? string.Empty);
        all.TryAdd("eos_token", Folder.EosToken ?? string.Empty);
        // Text longer than the context times the most one token can stand for cannot fit: rendering stops there,
        // before copying it.
        var perToken = Tokenizer.Tokenizer.MaxCharsPerToken;
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

    /// <summary>Tokenizes prompt text whole: every special token written in it is the control token.</summary>
    public IReadOnlyList<int> Tokenize(string prompt) => Tokenizer.Encode(prompt, addSpecialTokens: false);

    /// <summary>
    /// Tokenizes a rendered prompt: the template's markup as control tokens (it already wrote the ones it wants), and a
    /// special token that message text wrote as the plain text it is.
    /// </summary>
    /// <exception cref="ContextLengthExceededException">The prompt provably needs the whole context or more (found
    /// from its length, without tokenizing it).</exception>
    public IReadOnlyList<int> Tokenize(MarkedText prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var minimum = Tokenizer.Tokenizer.MinimumTokenCount(prompt.Text);
        if (minimum >= MaxContextLength)
        {
            throw new ContextLengthExceededException(MaxContextLength, minimum);
        }

        return Tokenizer.Tokenizer.Encode(prompt.Text, prompt.DataPositions);
    }

    /// <summary>
    /// Renders and tokenizes a prompt (<see cref="RenderPrompt"/>, then <see cref="Tokenize(MarkedText)"/>), a bounded
    /// number at a time: a caller waits (asynchronously) while as many prompts as there are processors are prepared.
    /// </summary>
    /// <exception cref="GenerationRequestException">The template failed, or the prompt does not fit the context.</exception>
    public async Task<IReadOnlyList<int>> PreparePromptAsync(IReadOnlyDictionary<string, object?> variables, CancellationToken cancellationToken = default)
    {
        await _preparing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Tokenize(RenderPrompt(variables));
        }
        finally
        {
            _preparing.Release();
        }
    }

    /// <summary>Starts a generation (see <see cref="TextGenerationEngine.StartAsync"/>).</summary>
    public Task<GenerationStream> StartAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
        Engine.StartAsync(request, cancellationToken);

    /// <inheritdoc/>
    public void Dispose()
    {
        Engine.Dispose();
        _decoder.Dispose();
        _preparing.Dispose();
    }
}
