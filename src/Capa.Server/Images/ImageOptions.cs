namespace Capa.Server.Images;

/// <summary>Options of the image area: the local models, the job queue, and the files behind <c>url</c> responses.</summary>
public sealed record ImageOptions
{
    /// <summary>The model store; null for the default (<c>$CAPA_MODELS</c>, else <c>~/.capa/models</c>).</summary>
    public string? ModelsDirectory { get; init; }

    /// <summary>A diffusion pipeline folder to serve instead of looking in the store.</summary>
    public string? ModelDirectory { get; init; }

    /// <summary>
    /// The background-removal model (briaai/RMBG-1.4's layout) that gives <c>background: "transparent"</c> its alpha channel:
    /// a folder or a store id; null to use the first such model in the store. Without one, transparent requests get a 400.
    /// </summary>
    public string? BackgroundRemovalModel { get; init; }

    /// <summary>Whether to write <c>capa-sd-tiny</c> into the store when it holds no image model.</summary>
    public bool CreateTinyWhenEmpty { get; init; } = true;

    /// <summary>Threads ONNX Runtime uses (fixed, so seeded images repeat bit for bit).</summary>
    public int IntraOpThreads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Image jobs that run at once (each uses every core).</summary>
    public int MaxConcurrentJobs { get; init; } = 1;

    /// <summary>Jobs that may wait; more are refused with 429 and Retry-After.</summary>
    public int QueueLength { get; init; } = 8;

    /// <summary>Where images behind <c>url</c> responses are kept; null for a folder under the temp directory, removed at shutdown.</summary>
    public string? FilesDirectory { get; init; }

    /// <summary>How long an image URL stays valid (OpenAI: 60 minutes).</summary>
    public TimeSpan UrlLifetime { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>Most bytes of images kept for URLs; the oldest go first when a new one would exceed it.</summary>
    public long MaxFileBytes { get; init; } = 1L << 30;

    /// <summary>How often expired images are deleted.</summary>
    public TimeSpan CleanupInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The public base URL of image links (e.g. <c>https://capa.example.com</c>); null to use the request's own.</summary>
    public string? PublicBaseUrl { get; init; }

    /// <summary>
    /// The chat model that writes dall-e-3's <c>revised_prompt</c> (any model id or alias, local or upstream); null for
    /// the local model behind <c>gpt-4o-mini</c> when there is one (never an upstream); empty to use prompts as given.
    /// </summary>
    public string? RevisePromptsWith { get; init; }

    /// <summary>Whether <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c> may set the links' base (only behind a trusted proxy).</summary>
    public bool TrustForwardedHeaders { get; init; }
}
