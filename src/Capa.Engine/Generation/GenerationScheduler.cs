namespace Capa.Engine.Generation;

/// <summary>Limits of a <see cref="GenerationScheduler"/>.</summary>
public sealed record GenerationSchedulerOptions
{
    /// <summary>Requests generating at once. Default 4.</summary>
    public int MaxConcurrentRequests { get; init; } = 4;

    /// <summary>
    /// Sequences (choices, each with its own key/value cache) generating at once, over all running requests; this bounds
    /// the memory of caches whatever the number of open streams. A request with more choices than this runs alone. Default 16.
    /// </summary>
    public int MaxConcurrentSequences { get; init; } = 16;

    /// <summary>Requests allowed to wait for a slot; one more is refused with <see cref="GenerationQueueFullException"/>. Default 64.</summary>
    public int MaxQueuedRequests { get; init; } = 64;

    /// <summary>The <c>Retry-After</c> suggested when the queue is full. Default 2 s.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Admits requests to a model, first come first served: a request runs when both a request slot and room for its
/// sequences are free; at most <see cref="GenerationSchedulerOptions.MaxQueuedRequests"/> wait; the rest are refused at once.
/// </summary>
public sealed class GenerationScheduler : IDisposable
{
    private readonly GenerationSchedulerOptions _options;
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private int _running;
    private int _sequences;

    /// <summary>Creates a scheduler.</summary>
    public GenerationScheduler(GenerationSchedulerOptions? options = null)
    {
        _options = options ?? new GenerationSchedulerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConcurrentRequests, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConcurrentSequences, 1);
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

    /// <summary>Waits for a slot for a request of <paramref name="sequences"/> choices; dispose the lease to free it.</summary>
    /// <exception cref="GenerationQueueFullException">As many requests as allowed are running and waiting already.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    public async ValueTask<IDisposable> AcquireAsync(CancellationToken cancellationToken, int sequences = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequences, 1);
        var weight = Math.Min(sequences, _options.MaxConcurrentSequences);
        Waiter waiter;
        LinkedListNode<Waiter> node;
        lock (_lock)
        {
            if (_waiting.Count == 0 && Fits(weight))
            {
                _running++;
                _sequences += weight;
                return new Lease(this, weight);
            }

            if (_waiting.Count >= _options.MaxQueuedRequests)
            {
                throw new GenerationQueueFullException(_options.MaxConcurrentRequests + _options.MaxQueuedRequests, _options.RetryAfter);
            }

            waiter = new Waiter(weight);
            node = _waiting.AddLast(waiter);
        }

        using (cancellationToken.Register(() =>
        {
            lock (_lock)
            {
                if (node.List is not null)
                {
                    _waiting.Remove(node);
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

            _waiting.Clear();
        }
    }

    private bool Fits(int weight) => _running < _options.MaxConcurrentRequests && _sequences + weight <= _options.MaxConcurrentSequences;

    private void Release(int weight)
    {
        var admitted = new List<Waiter>();
        lock (_lock)
        {
            _running--;
            _sequences -= weight;

            // First come, first served: the head waits until it fits, and nobody passes it.
            while (_waiting.First is { } head && Fits(head.Value.Weight))
            {
                _waiting.RemoveFirst();
                _running++;
                _sequences += head.Value.Weight;
                admitted.Add(head.Value);
            }
        }

        foreach (var waiter in admitted)
        {
            waiter.Admission.TrySetResult();
        }
    }

    private sealed class Waiter(int weight)
    {
        public int Weight { get; } = weight;

        public TaskCompletionSource Admission { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Lease(GenerationScheduler owner, int weight) : IDisposable
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
