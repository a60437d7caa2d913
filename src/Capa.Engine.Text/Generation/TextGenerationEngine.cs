using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using Capa.Models.Diagnostics;

namespace Capa.Engine.Text.Generation;

/// <summary>Observes the raw logits a choice of a request samples from (tests use it to prove batch invariance).</summary>
internal delegate void LogitsObserver(GenerationRequest request, int choiceIndex, int position, ReadOnlySpan<float> logits);

/// <summary>
/// Runs generation requests on one decoder: admission through a <see cref="GenerationScheduler"/> (by key/value cache
/// memory), then a <see cref="GenerationLoop"/> that interleaves prompt chunks with rounds of decode steps. Each request
/// is prefilled once (choices fork the prompt's cache), then each choice decodes with its own <see cref="SeededSampler"/>,
/// streaming detokenizer and <see cref="StopSequenceMatcher"/>; the loop feeds the tokens of all running choices in
/// decode steps of several sequences when the model batches decode. Prompts are fed one sequence at a time with the
/// model's own chunk boundaries, and a batched step gives each sequence the logits it would get alone, so a request's
/// logits are bitwise the same alone or amid others. When a tracer listens to
/// <see cref="CapaActivities.SourceName"/>, each request adds three spans under the activity current at
/// <see cref="StartAsync"/>: <see cref="QueueSpan"/>, <see cref="PrefillSpan"/> and <see cref="DecodeSpan"/>.
/// </summary>
public sealed class TextGenerationEngine : IDisposable
{
    /// <summary>Most choices per request.</summary>
    public const int MaxChoices = 128;

    /// <summary>The span of a request's wait for admission.</summary>
    public const string QueueSpan = "capa.generation.queue";

    /// <summary>The span of a request's prompt, from its first chunk to its last (input and cached tokens, chunks).</summary>
    public const string PrefillSpan = "capa.generation.prefill";

    /// <summary>The span of a request's decoding, from its first sampled token to its last (output tokens, sequences).</summary>
    public const string DecodeSpan = "capa.generation.decode";

    private readonly IDecoderModel _model;
    private readonly IGenerationTokenizer _tokenizer;
    private readonly HashSet<int> _eos;
    private readonly GenerationLoop _loop;

    /// <summary>Creates the engine.</summary>
    /// <param name="model">The decoder.</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="eosTokenIds">Ids that end a choice.</param>
    /// <param name="scheduler">Admission limits; null for the defaults.</param>
    /// <param name="prefixCacheBytes">
    /// Bytes of prompt key/value cache kept for reuse by later prompts with the same prefix (<see cref="PrefixCache"/>);
    /// 0 turns reuse off. It has no effect on a decoder without <see cref="IDecoderModel.SupportsKvBlocks"/> or whose
    /// prefill is not chunked.
    /// </param>
    public TextGenerationEngine(IDecoderModel model, IGenerationTokenizer tokenizer, IEnumerable<int> eosTokenIds, GenerationSchedulerOptions? scheduler = null,
        long prefixCacheBytes = PrefixCache.DefaultCapacityBytes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(eosTokenIds);
        ArgumentOutOfRangeException.ThrowIfNegative(prefixCacheBytes);
        _model = model;
        _tokenizer = tokenizer;
        _eos = [.. eosTokenIds];
        Scheduler = new GenerationScheduler(scheduler);
        _loop = new GenerationLoop(model, Scheduler.Options.MaxBatchSequences);

        // Reuse needs chunk boundaries inside prompts: a prompt fed in one forward has no prefix that a forward computed alone.
        if (prefixCacheBytes > 0 && model.SupportsKvBlocks && model.PrefillChunkTokens < model.MaxContextLength)
        {
            PrefixCache = new PrefixCache(prefixCacheBytes, Math.Max(1, model.PrefillChunkTokens));
        }
    }

    /// <summary>The admission scheduler.</summary>
    public GenerationScheduler Scheduler { get; }

    /// <summary>The prompt prefix cache; null when reuse is off or the decoder cannot take part.</summary>
    public PrefixCache? PrefixCache { get; }

    /// <summary>The model's context length.</summary>
    public int MaxContextLength => _model.MaxContextLength;

    /// <summary>End-of-sequence ids.</summary>
    public IReadOnlyCollection<int> EosTokenIds => _eos;

    internal LogitsObserver? Observer { get; set; }

    /// <summary>Requests taking prompt-chunk turns (after the loop's last round).</summary>
    public int PrefillingRequests => _loop.Prefilling;

    /// <summary>Requests decoding (after the loop's last round).</summary>
    public int DecodingRequests => _loop.Decoding;

    /// <summary>
    /// Stops the generation loop (running requests end with <see cref="ObjectDisposedException"/>) and the scheduler; not
    /// the model, which the caller owns and may dispose once this returns.
    /// </summary>
    public void Dispose()
    {
        _loop.Dispose();
        Scheduler.Dispose();
        PrefixCache?.Clear();
    }

    /// <summary>
    /// The key/value cache a request can reach: each choice holds prompt + at most <c>max_tokens</c> (or up to the end of
    /// the context) positions.
    /// </summary>
    public long KvBytesFor(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var positions = Math.Min((long)request.PromptTokens.Count + (request.MaxTokens ?? int.MaxValue), _model.MaxContextLength);
        return request.N * positions * _model.KvBytesPerToken;
    }

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

        // The phases run on the loop's thread, outside the caller's flow: they hang under the caller's activity explicitly.
        var parent = Activity.Current?.Context ?? default;
        IDisposable lease;
        using (var queue = CapaActivities.Source.StartActivity(QueueSpan))
        {
            try
            {
                lease = await Scheduler.AcquireAsync(cancellationToken, request.N, KvBytesFor(request)).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                CapaActivities.SetError(queue, ex);
                throw;
            }
        }

        var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateUnbounded<GenerationUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var seed = request.Seed ?? NewSeed();
        var stream = new GenerationStream(channel.Reader, cancel, seed, request.PromptTokens.Count, request.N);
        var run = new RequestRun(this, request, (ulong)seed, channel.Writer, cancel, lease, stream, parent);
        stream.Completion = run.Completion;
        try
        {
            _loop.Enqueue(run);
        }
        catch (ObjectDisposedException)
        {
            lease.Dispose();
            cancel.Dispose();
            throw;
        }

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

        if (request.PromptPositions is { } positions && (positions.Length != request.PromptTokens.Count || positions.Rows.Length != 3L * positions.Length))
        {
            throw new ArgumentException("PromptPositions must hold three rows of one position per prompt token.", nameof(request));
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

    /// <summary>One admitted request as the loop drives it; only the loop's thread touches it after it is enqueued.</summary>
    private sealed class RequestRun : ILoopRequest
    {
        private readonly TextGenerationEngine _engine;
        private readonly GenerationRequest _request;
        private readonly ulong _seed;
        private readonly ChannelWriter<GenerationUpdate> _writer;
        private readonly CancellationTokenSource _cancel;
        private readonly CancellationToken _ct;
        private readonly IDisposable _lease;
        private readonly GenerationStream _stream;
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly int[] _prompt;
        private readonly ChoiceState?[] _choices;
        private readonly int _maxTokens;
        private readonly long _admitted = System.Diagnostics.Stopwatch.GetTimestamp();
        private readonly ActivityContext _parent;
        private Activity? _prefillSpan;
        private Activity? _decodeSpan;
        private int _prefillChunks;
        private int _sampled;
        private long _lastRound;
        private IDecoderSequence? _first;
        private int _fed;
        private int _active;
        private bool _completed;

        public RequestRun(TextGenerationEngine engine, GenerationRequest request, ulong seed, ChannelWriter<GenerationUpdate> writer, CancellationTokenSource cancel, IDisposable lease,
            GenerationStream stream, ActivityContext parent)
        {
            _stream = stream;
            _parent = parent;
            _engine = engine;
            _request = request;
            _seed = seed;
            _writer = writer;
            _cancel = cancel;
            _ct = cancel.Token;
            _lease = lease;
            _prompt = request.PromptTokens is int[] array ? array : [.. request.PromptTokens];
            _choices = new ChoiceState?[request.N];
            _active = request.N;
            _maxTokens = Math.Min(request.MaxTokens ?? int.MaxValue, engine._model.MaxContextLength - _prompt.Length);
        }

        public Task Completion => _completion.Task;

        public bool IsCancelled => _ct.IsCancellationRequested;

        public bool PrefillChunk()
        {
            _ct.ThrowIfCancellationRequested();
            var model = _engine._model;
            if (_first is null)
            {
                _prefillSpan = CapaActivities.StartDetached(PrefillSpan, _parent);
                _first = StartSequence();
                if (_request.PromptPositions is { } positions)
                {
                    _first.UseMultimodalPositions(positions);
                }

                _choices[0] = new ChoiceState(0, _first, _engine, _request, _seed);
            }

            // The same chunk boundaries as the model's own Forward over the whole prompt, so the cache is bitwise the same.
            var n = Math.Min(Math.Max(1, model.PrefillChunkTokens), _prompt.Length - _fed);
            ReadOnlySpan<float> logits;
            if (_request.PromptEmbeddings is { } embeddings)
            {
                var hidden = embeddings.Length / _prompt.Length;
                logits = _first.ForwardEmbeddings(embeddings.AsSpan(_fed * hidden, n * hidden));
            }
            else
            {
                logits = _first.Forward(_prompt.AsSpan(_fed, n));
            }

            _fed += n;
            _prefillChunks++;
            GenerationMetrics.PrefillTokens.Add(n);
            if (_fed < _prompt.Length)
            {
                return false;
            }

            if (CachesPrefix)
            {
                // Every position now was written by prefill (or reused from it) with the model's own chunk boundaries.
                var sequence = _first;
                _engine.PrefixCache!.Add(_prompt, (start, count) => sequence.CopyKv(start, count));
            }

            var first = _choices[0]!;
            logits.CopyTo(first.Logits);
            for (var c = 1; c < _choices.Length; c++)
            {
                _ct.ThrowIfCancellationRequested();
                _choices[c] = new ChoiceState(c, _first.Fork(), _engine, _request, _seed);
                first.Logits.AsSpan().CopyTo(_choices[c]!.Logits);
            }

            EndPrefillSpan();
            return true;
        }

        // A prompt given as embeddings (image features) or with multimodal positions is more than its ids: not keyed by them.
        private bool CachesPrefix => _engine.PrefixCache is not null && _request.PromptEmbeddings is null && _request.PromptPositions is null;

        // An empty sequence, or one holding the longest cached prefix of the prompt. The prompt's last chunk is always
        // computed, so its logits come from a forward; the rest is fed on from the same chunk boundary as a fresh prefill.
        private IDecoderSequence StartSequence()
        {
            if (!CachesPrefix)
            {
                return _engine._model.CreateSequence();
            }

            var cache = _engine.PrefixCache!;
            var blocks = cache.Match(_prompt, _prompt.Length - 1);
            if (blocks.Count == 0)
            {
                GenerationMetrics.PrefixCacheMisses.Add(1);
                return _engine._model.CreateSequence();
            }

            var sequence = _engine._model.CreateSequence(blocks);
            _fed = sequence.Length;
            _stream.CachedPromptTokens = _fed;
            GenerationMetrics.PrefixCacheHits.Add(1);
            GenerationMetrics.PrefixCacheReusedTokens.Add(_fed);
            return sequence;
        }

        public bool SampleRound(List<DecodeSlot> slots)
        {
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (_lastRound == 0)
            {
                GenerationMetrics.TimeToFirstToken.Record(GenerationMetrics.SecondsSince(_admitted));
            }
            else
            {
                var gap = GenerationMetrics.SecondsSince(_lastRound);
                for (var i = 0; i < _active; i++)
                {
                    GenerationMetrics.InterTokenLatency.Record(gap);
                }
            }

            _lastRound = now;
            var sampled = 0;
            foreach (var choice in _choices)
            {
                if (choice!.Finished)
                {
                    continue;
                }

                _ct.ThrowIfCancellationRequested();
                var update = choice.Sample(_maxTokens);
                sampled++;
                if (update is not null)
                {
                    _writer.TryWrite(update);
                }

                if (choice.Finished)
                {
                    _active--;
                    choice.Sequence.Dispose();
                    continue;
                }

                // Checked here so that a sequence with no room fails its own request, not the decode step it would join.
                if (choice.Sequence.Length >= _engine._model.MaxContextLength)
                {
                    throw new InvalidOperationException(
                        $"Choice {choice.Index} holds {choice.Sequence.Length} positions: its next token would pass the model's context of {_engine._model.MaxContextLength}.");
                }

                slots.Add(new DecodeSlot(choice.Sequence, choice.NextToken, choice.Logits));
            }

            GenerationMetrics.DecodeTokens.Add(sampled);
            _sampled += sampled;
            if (_active > 0)
            {
                return false;
            }

            Complete(null);
            return true;
        }

        public void Fail(Exception error) => Complete(error);

        private void EndPrefillSpan()
        {
            if (_prefillSpan is { } span)
            {
                span.SetTag(CapaActivities.GenAi.InputTokens, _prompt.Length);
                span.SetTag(CapaActivities.GenAi.CacheReadInputTokens, _stream.CachedPromptTokens);
                span.SetTag(CapaActivities.GenAi.PrefillChunks, _prefillChunks);
                CapaActivities.StopDetached(span);
                _prefillSpan = null;
            }

            _decodeSpan = CapaActivities.StartDetached(DecodeSpan, _parent);
            _decodeSpan?.SetTag(CapaActivities.GenAi.DecodeSequences, _choices.Length);
        }

        // Ends whichever phase is open; a failure marks it.
        private void EndSpans(Exception? error)
        {
            if (error is not null)
            {
                CapaActivities.SetError(_prefillSpan ?? _decodeSpan, error);
            }

            _decodeSpan?.SetTag(CapaActivities.GenAi.OutputTokens, _sampled);
            CapaActivities.StopDetached(_prefillSpan);
            CapaActivities.StopDetached(_decodeSpan);
            _prefillSpan = _decodeSpan = null;
        }

        private void Complete(Exception? error)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            EndSpans(error);
            try
            {
                if (error is null)
                {
                    _writer.TryComplete();
                }
                else
                {
                    _writer.TryComplete(error is OperationCanceledException && _ct.IsCancellationRequested ? new OperationCanceledException(_ct) : error);
                }

                _first?.Dispose();
                foreach (var choice in _choices)
                {
                    choice?.Sequence.Dispose();
                }
            }
            finally
            {
                _lease.Dispose();
                _cancel.Dispose();
                _completion.TrySetResult();
            }
        }
    }

    private sealed class ChoiceState : ITokenFilter
    {
        private readonly TextGenerationEngine _engine;
        private readonly SeededSampler _sampler;
        private readonly IStreamingDetokenizer _detokenizer;
        private readonly StopSequenceMatcher _stops;
        private readonly GenerationRequest _request;
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
            _request = request;
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

        /// <summary>The token sampled last, which the next decode step feeds while the choice has not finished.</summary>
        public int NextToken { get; private set; }

        // Samples from Logits (the last decode step's output) and says what the token adds to the stream; the loop's
        // decode step then feeds NextToken and writes the next logits, unless the choice has finished.
        public GenerationUpdate? Sample(int maxTokens)
        {
            var position = _generated.Count;
            _engine.Observer?.Invoke(_request, Index, position, Logits);
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
                NextToken = token;
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
