namespace Capa.Engine.Text.Generation;

/// <summary>Limits of a <see cref="GenerationScheduler"/>.</summary>
public sealed record GenerationSchedulerOptions
{
    /// <summary>The default <see cref="KvCacheBudgetBytes"/>: 4 GiB.</summary>
    public const long DefaultKvCacheBudgetBytes = 4L << 30;

    /// <summary>
    /// Bytes of key/value cache the running requests may hold together. A request reserves, when admitted, the cache its
    /// choices can reach at most: choices × min(prompt + max_tokens, context) × the model's bytes per token; it waits
    /// while the reservations of the running requests leave no room. A request that needs more than the whole budget
    /// runs alone. Default <see cref="DefaultKvCacheBudgetBytes"/>.
    /// </summary>
    public long KvCacheBudgetBytes { get; init; } = DefaultKvCacheBudgetBytes;

    /// <summary>
    /// Sequences (choices, each with its own key/value cache) generating at once, over all running requests: each takes
    /// a turn per round of the generation loop, so this bounds how far apart a stream's tokens can be. A request with
    /// more choices than this runs alone. Default 64.
    /// </summary>
    public int MaxConcurrentSequences { get; init; } = 64;

    /// <summary>
    /// Most sequences fed to the model in one decode step. Each round of the generation loop samples the next token of
    /// every running sequence, then feeds them in steps of at most this many; only a model that batches decode
    /// (<see cref="IDecoderModel.BatchesDecode"/>) runs such a step as one forward, others feed one sequence at a time.
    /// Default 16.
    /// </summary>
    public int MaxBatchSequences { get; init; } = 16;

    /// <summary>An optional cap on requests generating at once; null (the default): only memory and <see cref="MaxConcurrentSequences"/> bound them.</summary>
    public int? MaxConcurrentRequests { get; init; }

    /// <summary>Requests allowed to wait for admission; one more is refused with <see cref="GenerationQueueFullException"/>. Default 64.</summary>
    public int MaxQueuedRequests { get; init; } = 64;

    /// <summary>The <c>Retry-After</c> suggested when the queue is full. Default 2 s.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Admits requests to a model, first come first served: a request runs when its key/value cache reservation fits the
/// budget beside those running and its sequences fit <see cref="GenerationSchedulerOptions.MaxConcurrentSequences"/>;
/// at most <see cref="GenerationSchedulerOptions.MaxQueuedRequests"/> wait; the rest are refused at once.
/// </summary>
public sealed class GenerationScheduler : IDisposable
{
    private readonly GenerationSchedulerOptions _options;
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private int _running;
    private int _sequences;
    private long _kvBytes;

    /// <summary>Creates a scheduler.</summary>
    public GenerationScheduler(GenerationSchedulerOptions? options = null)
    {
        _options = options ?? new GenerationSchedulerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConcurrentRequests ?? 1, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConcurrentSequences, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBatchSequences, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.KvCacheBudgetBytes, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(_options.MaxQueuedRequests);
    }

    /// <summary>The limits.</summary>
    public GenerationSchedulerOptions Options => _options;

    /// <summary>Requests running now.</summary>
    public int Running
    {
        get
        {
            lock (_lock)
            {
                return _running;
            }
        }
    }

    /// <summary>Sequences of the running requests.</summary>
    public int RunningSequences
    {
        get
        {
            lock (_lock)
            {
                return _sequences;
            }
        }
    }

    /// <summary>Key/value cache bytes reserved by the running requests.</summary>
    public long ReservedKvBytes
    {
        get
        {
            lock (_lock)
            {
                return _kvBytes;
            }
        }
    }

    /// <summary>Requests waiting for admission.</summary>
    public int Queued
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Requests running or waiting.</summary>
    public int Admitted
    {
        get
        {
            lock (_lock)
            {
                return _running + _waiting.Count;
            }
        }
    }

    /// <summary>
    /// Waits for admission of a request of <paramref name="sequences"/> choices whose caches can grow to
    /// <paramref name="kvBytes"/> bytes together; dispose the lease to free its share.
    /// </summary>
    /// <exception cref="GenerationQueueFullException">As many requests as allowed are waiting already.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    public async ValueTask<IDisposable> AcquireAsync(CancellationToken cancellationToken, int sequences = 1, long kvBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequences, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(kvBytes);
        var weight = new Weight(Math.Min(sequences, _options.MaxConcurrentSequences), Math.Min(kvBytes, _options.KvCacheBudgetBytes));
        Waiter waiter;
        LinkedListNode<Waiter> node;
        lock (_lock)
        {
            if (_waiting.Count == 0 && Fits(weight))
            {
                Take(weight);
                return new Lease(this, weight);
            }

            if (_waiting.Count >= _options.MaxQueuedRequests)
            {
                throw new GenerationQueueFullException(_running + _waiting.Count, _options.RetryAfter);
            }

            waiter = new Waiter(weight);
            node = _waiting.AddLast(waiter);
            GenerationMetrics.QueuedRequests.Add(1);
        }

        using (cancellationToken.Register(() =>
        {
            lock (_lock)
            {
                if (node.List is not null)
                {
                    _waiting.Remove(node);
                    GenerationMetrics.QueuedRequests.Add(-1);
                    waiter.Admission.TrySetCanceled(cancellationToken);
                }
            }
        }))
        {
            await waiter.Admission.Task.ConfigureAwait(false);
        }

        return new Lease(this, weight);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var waiter in _waiting)
            {
                waiter.Admission.TrySetException(new ObjectDisposedException(nameof(GenerationScheduler)));
            }

            GenerationMetrics.QueuedRequests.Add(-_waiting.Count);
            _waiting.Clear();
        }
    }

    // Oversized requests (their weights are clamped to the limits) fit exactly when nothing else runs.
    private bool Fits(Weight weight) =>
        _running < (_options.MaxConcurrentRequests ?? int.MaxValue)
        && _sequences + weight.Sequences <= _options.MaxConcurrentSequences
        && _kvBytes + weight.KvBytes <= _options.KvCacheBudgetBytes;

    private void Take(Weight weight)
    {
        _running++;
        _sequences += weight.Sequences;
        _kvBytes += weight.KvBytes;
        GenerationMetrics.RunningRequests.Add(1);
        GenerationMetrics.RunningSequences.Add(weight.Sequences);
        GenerationMetrics.ReservedKvBytes.Add(weight.KvBytes);
    }

    private void Release(Weight weight)
    {
        var admitted = new List<Waiter>();
        lock (_lock)
        {
            _running--;
            _sequences -= weight.Sequences;
            _kvBytes -= weight.KvBytes;
            GenerationMetrics.RunningRequests.Add(-1);
            GenerationMetrics.RunningSequences.Add(-weight.Sequences);
            GenerationMetrics.ReservedKvBytes.Add(-weight.KvBytes);

            // First come, first served: the head waits until it fits, and nobody passes it.
            while (_waiting.First is { } head && Fits(head.Value.Weight))
            {
                _waiting.RemoveFirst();
                GenerationMetrics.QueuedRequests.Add(-1);
                Take(head.Value.Weight);
                admitted.Add(head.Value);
            }
        }

        foreach (var waiter in admitted)
        {
            waiter.Admission.TrySetResult();
        }
    }

    private readonly record struct Weight(int Sequences, long KvBytes);

    private sealed class Waiter(Weight weight)
    {
        public Weight Weight { get; } = weight;

        public TaskCompletionSource Admission { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Lease(GenerationScheduler owner, Weight weight) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(weight);
            }
        }
    }
}
