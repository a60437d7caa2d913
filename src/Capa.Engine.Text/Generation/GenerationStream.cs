using System.Threading.Channels;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// A running request: its updates as they become final, the seed in use, and exact token counts.
/// Disposing it (or cancelling the token given to <see cref="TextGenerationEngine.StartAsync"/>) stops the generation and
/// frees its caches and scheduler slot at once.
/// </summary>
public sealed class GenerationStream : IAsyncDisposable, IDisposable
{
    private readonly ChannelReader<GenerationUpdate> _reader;
    private readonly CancellationTokenSource _cancel;
    private readonly int[] _completionTokens;
    private int _cachedPromptTokens;

    internal GenerationStream(ChannelReader<GenerationUpdate> reader, CancellationTokenSource cancel, long seed, int promptTokens, int n)
    {
        _reader = reader;
        _cancel = cancel;
        Seed = seed;
        PromptTokens = promptTokens;
        _completionTokens = new int[n];
    }

    /// <summary>The seed the choices were sampled with (the request's, or a freshly drawn one).</summary>
    public long Seed { get; }

    /// <summary>Tokens in the prompt.</summary>
    public int PromptTokens { get; }

    /// <summary>
    /// Prompt tokens whose key/value cache was reused from an earlier prompt instead of computed (OpenAI's
    /// <c>cached_tokens</c>); known once the prompt has been prefilled, i.e. by the first update.
    /// </summary>
    public int CachedPromptTokens
    {
        get => Volatile.Read(ref _cachedPromptTokens);
        internal set => Volatile.Write(ref _cachedPromptTokens, value);
    }

    /// <summary>Number of choices.</summary>
    public int ChoiceCount => _completionTokens.Length;

    /// <summary>Tokens sampled so far over all choices (final once the stream has been read to its end).</summary>
    public int CompletionTokens => _completionTokens.Sum();

    /// <summary>The background work; faults with the generation's error.</summary>
    internal Task Completion { get; set; } = Task.CompletedTask;

    /// <summary>Reads updates until every choice has finished. Errors of the generation are thrown here.</summary>
    public async IAsyncEnumerable<GenerationUpdate> ReadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var update in _reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            _completionTokens[update.ChoiceIndex] = update.CompletionTokens;
            yield return update;
        }
    }

    /// <summary>Reads the whole stream into one result per choice.</summary>
    public async Task<GenerationResult> CollectAsync(CancellationToken cancellationToken = default)
    {
        var texts = Enumerable.Range(0, ChoiceCount).Select(_ => new System.Text.StringBuilder()).ToArray();
        var logprobs = new List<TokenLogprob>?[ChoiceCount];
        var finish = new FinishReason[ChoiceCount];
        await foreach (var u in ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            texts[u.ChoiceIndex].Append(u.Text);
            if (u.Logprobs is not null)
            {
                (logprobs[u.ChoiceIndex] ??= []).AddRange(u.Logprobs);
            }

            if (u.FinishReason is { } f)
            {
                finish[u.ChoiceIndex] = f;
            }
        }

        var choices = new GenerationChoice[ChoiceCount];
        for (var i = 0; i < choices.Length; i++)
        {
            choices[i] = new GenerationChoice(i, texts[i].ToString(), finish[i], _completionTokens[i], logprobs[i]);
        }

        return new GenerationResult(Seed, PromptTokens, CompletionTokens, choices) { CachedPromptTokens = CachedPromptTokens };
    }

    /// <summary>Stops the generation (if still running) and frees its resources.</summary>
    public void Dispose()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>One finished choice.</summary>
/// <param name="Index">Choice index.</param>
/// <param name="Text">The whole text.</param>
/// <param name="FinishReason">Why it ended.</param>
/// <param name="CompletionTokens">Tokens it sampled.</param>
/// <param name="Logprobs">Per-token logprobs when asked for.</param>
public sealed record GenerationChoice(int Index, string Text, FinishReason FinishReason, int CompletionTokens, IReadOnlyList<TokenLogprob>? Logprobs);

/// <summary>A finished request.</summary>
/// <param name="Seed">The seed used.</param>
/// <param name="PromptTokens">Prompt length in tokens.</param>
/// <param name="CompletionTokens">Tokens sampled over all choices.</param>
/// <param name="Choices">The choices, by index.</param>
public sealed record GenerationResult(long Seed, int PromptTokens, int CompletionTokens, IReadOnlyList<GenerationChoice> Choices)
{
    /// <summary>Prompt tokens reused from the prefix cache (see <see cref="GenerationStream.CachedPromptTokens"/>).</summary>
    public int CachedPromptTokens { get; init; }
}
