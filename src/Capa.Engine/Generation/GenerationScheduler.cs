namespace Capa.Engine.Generation;

/// <summary>Limits of a <see cref="GenerationScheduler"/>.</summary>
public sealed record GenerationSchedulerOptions
{
    /// <summary>Requests generating at once (each holds its choices' key/value caches). Default 4.</summary>
    public int MaxConcurrentRequests { get; init; } = 4;

    /// <summary>Requests allowed to wait for a slot; one more is refused with <see cref="GenerationQueueFullException"/>. Default 64.</summary>
    public int MaxQueuedRequests { get; init; } = 64;

    /// <summary>The <c>Retry-After</c> suggested when the queue is full. Default 2 s.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Admits requests to a model: at most <see cref="GenerationSchedulerOptions.MaxConcurrentRequests"/> run, at most
/// <see cref="GenerationSchedulerOptions.MaxQueuedRequests"/> wait (first come, first served), the rest are refused at once.
/// Memory is bounded by the running requests, whatever the number of open streams.
/// </summary>
public sealed class GenerationScheduler : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly GenerationSchedulerOptions _options;
    private int _admitted;

    /// <summary>Creates a scheduler.</summary>
    public GenerationScheduler(GenerationSchedulerOptions? options = null)
    {
        _options = options ?? new GenerationSchedulerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConcurrentRequests, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(_options.MaxQueuedRequests);
        _slots = new SemaphoreSlim(_options.MaxConcurrentRequests, _options.MaxConcurrentRequests);
    }

    /// <summary>The limits.</summary>
    public GenerationSchedulerOptions Options => _options;

    /// <summary>Requests running now.</summary>
    public int Running => _options.MaxConcurrentRequests - _slots.CurrentCount;

    /// <summary>Requests running or waiting.</summary>
    public int Admitted => Volatile.Read(ref _admitted);

    /// <summary>Waits for a slot; dispose the lease to free it.</summary>
    /// <exception cref="GenerationQueueFullException">As many requests as allowed are running and waiting already.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    public async ValueTask<IDisposable> AcquireAsync(CancellationToken cancellationToken)
    {
        var capacity = _options.MaxConcurrentRequests + _options.MaxQueuedRequests;
        if (Interlocked.Increment(ref _admitted) > capacity)
        {
            Interlocked.Decrement(ref _admitted);
            throw new GenerationQueueFullException(capacity, _options.RetryAfter);
        }

        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Decrement(ref _admitted);
            throw;
        }

        return new Lease(this);
    }

    /// <inheritdoc/>
    public void Dispose() => _slots.Dispose();

    private sealed class Lease(GenerationScheduler owner) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner._slots.Release();
                Interlocked.Decrement(ref owner._admitted);
            }
        }
    }
}
