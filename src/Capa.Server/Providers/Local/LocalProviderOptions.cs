using Capa.Engine.Text.Generation;
using Capa.Protocol;

namespace Capa.Server.Providers.Local;

/// <summary>Settings of the <see cref="LocalChatProvider"/>.</summary>
public sealed record LocalProviderOptions
{
    /// <summary>The model store's root (<c>CAPA_MODELS</c> or <c>~/.capa/models</c> when null).</summary>
    public string? ModelsDirectory { get; init; }

    /// <summary>
    /// Where Capa keeps its own files (<c>capa-tiny</c>, model file digests): never the models folder, which may be the
    /// user's. Null: <c>CAPA_CACHE</c>, else <c>~/.capa/cache</c>.
    /// </summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Create and serve <c>capa-tiny</c> (in <see cref="CacheDirectory"/>) when the store holds no chat model (default true).</summary>
    public bool CreateTinyModelWhenEmpty { get; init; } = true;

    /// <summary>How each model is loaded and run (variant, threads, scheduler limits).</summary>
    public LocalChatModelOptions Model { get; init; } = new();

    /// <summary>How long the list of models is cached before the store is read again. Default 5 s.</summary>
    public TimeSpan ModelListCacheDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Replaces the built-in constrained decoding (JSON mode, JSON schemas and forced tool calls, see
    /// <c>ChatOutputPlan</c>) with a custom per-choice logits processor factory, or null for none. When unset (the
    /// default), the built-in planning applies.
    /// </summary>
    public Func<ChatCompletionRequest, LocalChatModel, Func<int, ILogitsProcessor>?>? ConstraintFactory { get; init; }
}
