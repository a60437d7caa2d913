using System.Threading.RateLimiting;

namespace Capa.Server.Limits;

/// <summary>
/// Bounds the work in flight: a fixed number of requests run, a bounded queue waits (first come, first served), and the
/// rest are refused at once so the server answers 429 instead of piling up memory.
/// </summary>
internal sealed class RequestGate : IDisposable
{
    private readonly ConcurrencyLimiter _limiter;

    public RequestGate(int maxConcurrent, int queueLength)
    {
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = maxConcurrent,
            QueueLimit = queueLength,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>Waits for a slot; the lease's <c>IsAcquired</c> is false when the queue is full.</summary>
    public ValueTask<RateLimitLease> EnterAsync(CancellationToken cancellationToken) => _limiter.AcquireAsync(1, cancellationToken);

    public void Dispose() => _limiter.Dispose();
}
