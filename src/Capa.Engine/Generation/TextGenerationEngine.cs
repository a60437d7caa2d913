using System.Security.Cryptography;
using System.Threading.Channels;

namespace Capa.Engine.Generation;

/// <summary>Observes the raw logits a choice samples from (tests use it to prove batch invariance).</summary>
internal delegate void LogitsObserver(int choiceIndex, int position, ReadOnlySpan<float> logits);

/// <summary>
/// Runs generation requests on one decoder: admission through a <see cref="GenerationScheduler"/>, prefill once per
/// request (choices fork the prompt's cache), then a decode loop per choice with its own <see cref="SeededSampler"/>,
/// streaming detokenizer and <see cref="StopSequenceMatcher"/>. Each sequence runs at batch 1, so a request's logits are
/// bitwise the same alone or amid others.
/// </summary>
public sealed class TextGenerationEngine : IDisposable
{
    /// <summary>Most choices per request.</summary>
    public const int MaxChoices = 128;

    private readonly IDecoderModel _model;
    private readonly IGenerationTokenizer _tokenizer;
    private readonly HashSet<int> _eos;

    /// <summary>Creates the engine.</summary>
    /// <param name="model">The decoder.</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="eosTokenIds">Ids that end a choice.</param>
    /// <param name="scheduler">Admission limits; null for the defaults.</param>
    public TextGenerationEngine(IDecoderModel model, IGenerationTokenizer tokenizer, IEnumerable<int> eosTokenIds, GenerationSchedulerOptions? scheduler = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(eosTokenIds);
        _model = model;
        _tokenizer = tokenizer;
        _eos = [.. eosTokenIds];
        Scheduler = new GenerationScheduler(scheduler);
    }

    /// <summary>The admission scheduler.</summary>
    public GenerationScheduler Scheduler { get; }

    /// <summary>The model's context length.</summary>
    public int MaxContextLength => _model.MaxContextLength;

    /// <summary>End-of-sequence ids.</summary>
    public IReadOnlyCollection<int> EosTokenIds => _eos;

    internal LogitsObserver? Observer { get; set; }

    /// <summary>Releases the scheduler (not the model, which the caller owns).</summary>
    public void Dispose() => Scheduler.Dispose();

    /// <summary>Draws a fresh non-negative 63-bit seed (so it round-trips through OpenAI's integer <c>seed</c>).</summary>
    public static long NewSeed() => (long)(BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) >> 1);

    /// <summary>
    /// Validates the request, waits for a scheduler slot and starts generating in the background.
    /// </summary>
    /// <exception cref="GenerationRequestException">A parameter is out of range.</exception>
    /// <exception cref="ContextLengthExceededException">The prompt does not fit.</exception>
    /// <exception cref="GenerationQueueFullException">Too many requests are running and waiting.</exception>
    public async Task<GenerationStream> StartAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        Validate(request);

        var lease = await Scheduler.AcquireAsync(cancellationToken, request.N).ConfigureAwait(false);
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateUnbounded<GenerationUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var seed = request.Seed ?? NewSeed();
        var stream = new GenerationStream(channel.Reader, cancel, seed, request.PromptTokens.Count, request.N);
        stream.Completion = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    Run(request, (ulong)seed, channel.Writer, cancel.Token);
                    channel.Writer.TryComplete();
                }
                catch (Exception ex)
                {
                    channel.Writer.TryComplete(ex);
                }
                finally
                {
                    lease.Dispose();
                    cancel.Dispose();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        return stream;
    }

    private void Validate(GenerationRequest request)
    {
        if (request.PromptTokens.Count == 0)
        {
            throw new GenerationRequestException("The prompt is empty: at least one token is needed.", "messages", null);
        }

        if (request.N is < 1 or > MaxChoices)
        {
            throw new GenerationRequestException($"n must be between 1 and {MaxChoices}; got {request.N}.", "n", "invalid_value");
        }

        if (request.MaxTokens is < 1)
        {
            throw new GenerationRequestException($"max_tokens must be at least 1; got {request.MaxTokens}.", "max_tokens", "invalid_value");
        }

        try
        {
            request.Sampling.Validate();
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new GenerationRequestException(ex.Message.Split(" (Parameter", 2)[0], ParamName(ex.ParamName), "invalid_value");
        }

        foreach (var id in request.PromptTokens)
        {
            if ((uint)id >= (uint)_model.LogitsWidth)
            {
                throw new GenerationRequestException($"Prompt token id {id} is outside the model's vocabulary.", "messages", null);
            }
        }

        if (request.PromptEmbeddings is { } embeddings && (embeddings.Length == 0 || embeddings.Length % request.PromptTokens.Count != 0))
        {
            throw new ArgumentException("PromptEmbeddings must hold one row per prompt token.", nameof(request));
        }

        if (request.PromptTokens.Count >= _model.MaxContextLength)
        {
            throw new ContextLengthExceededException(_model.MaxContextLength, request.PromptTokens.Count);
        }
    }

    private static string? ParamName(string? property) => property switch
    {
        nameof(SamplingOptions.Temperature) => "temperature",
        nameof(SamplingOptions.TopP) => "top_p",
        nameof(SamplingOptions.TopK) => "top_k",
        nameof(SamplingOptions.PresencePenalty) => "presence_penalty",
        nameof(SamplingOptions.FrequencyPenalty) => "frequency_penalty",
        nameof(SamplingOptions.TopLogprobs) => "top_logprobs",
        nameof(SamplingOptions.LogitBias) => "logit_bias",
        _ => property,
    };

    private void Run(GenerationRequest request, ulong seed, ChannelWriter<GenerationUpdate> writer, CancellationToken ct)
    {
        var n = request.N;
        var maxTokens = Math.Min(request.MaxTokens ?? int.MaxValue, _model.MaxContextLength - request.PromptTokens.Count);
        var choices = new ChoiceState[n];
        try
        {
            ct.ThrowIfCancellationRequested();
            var prompt = request.PromptTokens is int[] array ? array : [.. request.PromptTokens];
            var first = _model.CreateSequence();
            choices[0] = new ChoiceState(0, first, this, request, seed);
            var logits = request.PromptEmbeddings is { } embeddings ? first.ForwardEmbeddings(embeddings) : first.Forward(prompt);
            logits.CopyTo(choices[0].Logits);
            for (var c = 1; c < n; c++)
            {
                ct.ThrowIfCancellationRequested();
                choices[c] = new ChoiceState(c, first.Fork(), this, request, seed);
                choices[0].Logits.AsSpan().CopyTo(choices[c].Logits);
            }

            var active = n;
            while (active > 0)
            {
                foreach (var choice in choices)
                {
                    if (choice.Finished)
                    {
                        continue;
                    }

                    ct.ThrowIfCancellationRequested();
                    var update = choice.Step(maxTokens);
                    if (update is not null)
                    {
                        writer.TryWrite(update);
                    }

                    if (choice.Finished)
                    {
                        active--;
                        choice.Sequence.Dispose();
                    }
                }
            }
        }
        finally
        {
            foreach (var choice in choices)
            {
                choice?.Sequence.Dispose();
            }
        }
    }

    private sealed class ChoiceState : ITokenFilter
    {
        private readonly TextGenerationEngine _engine;
        private readonly SeededSampler _sampler;
        private readonly IStreamingDetokenizer _detokenizer;
        private readonly StopSequenceMatcher _stops;
        private readonly ILogitsProcessor? _processor;
        private readonly ITokenFilter? _filter;
        private readonly Dictionary<int, int> _counts = [];
        private readonly List<int> _generated = [];
        private readonly bool _logprobs;
        private List<TokenLogprob>? _pendingLogprobs;

        public ChoiceState(int index, IDecoderSequence sequence, TextGenerationEngine engine, GenerationRequest request, ulong seed)
        {
            Index = index;
            Sequence = sequence;
            _engine = engine;
            _sampler = new SeededSampler(request.Sampling, seed, index, Math.Min(engine._tokenizer.VocabSize, engine._model.LogitsWidth));
            _detokenizer = engine._tokenizer.CreateStreamingDetokenizer();
            _stops = new StopSequenceMatcher(request.Stop);
            _processor = request.LogitsProcessorFactory?.Invoke(index);
            _filter = _processor is null ? null : this;
            _logprobs = request.Sampling.Logprobs;
            Logits = new float[engine._model.LogitsWidth];
        }

        public int Index { get; }

        public IDecoderSequence Sequence { get; }

        public float[] Logits { get; }

        public bool Finished { get; private set; }

        public GenerationUpdate? Step(int maxTokens)
        {
            var position = _generated.Count;
            _engine.Observer?.Invoke(Index, position, Logits);
            var token = _sampler.Sample(Logits, position, _counts, _filter, out var logprob);
            _generated.Add(token);
            _counts[token] = _counts.GetValueOrDefault(token) + 1;

            string text;
            FinishReason? finish = null;
            if (_engine._eos.Contains(token))
            {
                text = Finish();
                finish = FinishReason.Stop;
            }
            else
            {
                if (_logprobs && logprob is not null)
                {
                    (_pendingLogprobs ??= []).Add(logprob);
                }

                var piece = _engine._tokenizer.IsSpecial(token) ? string.Empty : _detokenizer.Append(token);
                text = _stops.Push(piece);
                if (_stops.Stopped)
                {
                    finish = FinishReason.Stop;
                }
                else if (_generated.Count >= maxTokens)
                {
                    text += Finish();
                    finish = _stops.Stopped ? FinishReason.Stop : FinishReason.Length;
                }
            }

            if (finish is null)
            {
                Sequence.Forward([token]).CopyTo(Logits);
            }
            else
            {
                Finished = true;
            }

            if (text.Length == 0 && finish is null && _pendingLogprobs is null)
            {
                return null;
            }

            var update = new GenerationUpdate(Index, text, _pendingLogprobs ?? (_logprobs && finish is not null ? [] : null), finish, _generated.Count);
            _pendingLogprobs = null;
            return update;
        }

        bool ITokenFilter.CanCheck => _processor!.SupportsTokenCheck;

        bool ITokenFilter.IsAllowed(int token) =>
            _processor!.IsAllowed(token, _generated) && (!_engine._eos.Contains(token) || _processor.CanEnd);

        // The processor's mask, and the end ids while it cannot end.
        void ITokenFilter.Apply(Span<float> logits)
        {
            _processor!.Process(logits, _generated);
            if (!_processor.CanEnd)
            {
                foreach (var id in _engine._eos)
                {
                    if ((uint)id < (uint)logits.Length)
                    {
                        logits[id] = float.NegativeInfinity;
                    }
                }
            }
        }

        // The end of the stream: the detokenizer's tail goes through the stop matcher, then whatever it held back is released.
        private string Finish()
        {
            var tail = _stops.Push(_detokenizer.Flush());
            return _stops.Stopped ? tail : tail + _stops.Flush();
        }
    }
}
