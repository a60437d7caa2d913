using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace Capa.Server.Limits;

/// <summary>
/// Bounds the bytes of large request bodies held at once, for every endpoint that reads its body with
/// <see cref="BoundedBodyReader"/>: a body over <see cref="SmallBody"/> waits (first come, first served) until its size
/// fits the budget, so a burst of huge requests is read and answered a few at a time instead of holding every body,
/// and its parsed text, together. The budget is counted in MiB; a body of unknown length (chunked) counts as the
/// largest body allowed. A request holds its share until it completes.
/// </summary>
/// <remarks>
/// A large body leaves several times its size in large-object garbage (its bytes, its parsed UTF-16 text, the
/// copies made while the prompt is rendered), which the collector keeps resident long after a burst. So after every
/// budget's worth of large bodies the budget asks for a full collection, and when the last large request of a burst
/// completes, for one that also returns the freed memory to the system (and, after a quiet minute, one more that lets
/// the shared array pool drop the large buffers it kept).
/// </remarks>
internal sealed class BodyBudget : IDisposable
{
    /// <summary>Bodies up to this size are not counted.</summary>
    public const long SmallBody = 1024 * 1024;

    private const long Unit = 1024 * 1024;

    // Less than this many bytes of large bodies since memory was last returned is not worth a collection when idle.
    private const long IdleCollectBytes = 8 * Unit;

    // How long no large request must be in flight before a burst counts as over.
    private static readonly TimeSpan IdleDelay = TimeSpan.FromMilliseconds(200);

    // The shared array pool (where System.Text.Json rents the buffers that unescape a large string) frees the arrays
    // it has held unused for a minute at a full collection: one more, a little later, returns those too.
    private static readonly TimeSpan PoolTrimDelay = TimeSpan.FromSeconds(65);

    private static readonly object ItemKey = new();

    private readonly ConcurrencyLimiter _limiter;
    private readonly CancellationTokenSource _disposed = new();
    private readonly int _budget;
    private readonly long _maxBodyBytes;
    private readonly long _collectEvery;
    private int _inFlight;
    private long _sinceCollection;
    private long _sinceReturn;
    private int _collecting;
    private int _collections;
    private long _admitted;
    private int _followUps;

    /// <summary>Creates a budget of two of the largest bodies allowed (at least 32 MiB).</summary>
    public BodyBudget(long maxBodyBytes)
    {
        _maxBodyBytes = maxBodyBytes;
        _budget = (int)Math.Clamp(2 * Units(maxBodyBytes), 32, int.MaxValue / 2);
        _collectEvery = _budget * Unit;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _budget,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>Collections this budget asked for.</summary>
    internal int Collections => Volatile.Read(ref _collections);

    /// <summary>
    /// Waits until the request's body fits the budget and holds its share until the request completes. A request
    /// that already holds its share (a body read twice, as before forwarding it upstream) does not wait again.
    /// </summary>
    public async ValueTask AdmitAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.ContainsKey(ItemKey))
        {
            return;
        }

        var lease = await EnterAsync(context.Request.ContentLength, cancellationToken).ConfigureAwait(false);
        context.Items[ItemKey] = lease;
        if (lease is not null)
        {
            context.Response.RegisterForDispose(lease);
        }
    }

    /// <summary>Waits until a body of <paramref name="contentLength"/> bytes (null: unknown) fits; null for a small body.</summary>
    public async ValueTask<IDisposable?> EnterAsync(long? contentLength, CancellationToken cancellationToken)
    {
        if (contentLength is { } length && length <= SmallBody)
        {
            return null;
        }

        // A declared length over the limit is refused without reading, so it needs no budget.
        if (contentLength > _maxBodyBytes)
        {
            return null;
        }

        var permits = (int)Math.Min(_budget, Units(contentLength ?? _maxBodyBytes));
        var lease = await _limiter.AcquireAsync(permits, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref _admitted);
        return new Lease(this, lease, permits * Unit);
    }

    private static long Units(long bytes) => Math.Max(1, (bytes + Unit - 1) / Unit);

    private void Released(long bytes)
    {
        var pending = Interlocked.Add(ref _sinceCollection, bytes);
        var unreturned = Interlocked.Add(ref _sinceReturn, bytes);
        var idle = Interlocked.Decrement(ref _inFlight) == 0;
        if ((pending < _collectEvery && !(idle && unreturned >= IdleCollectBytes))
            || Interlocked.CompareExchange(ref _collecting, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(CollectAsync);
    }

    private async Task CollectAsync()
    {
        try
        {
            // Mid-burst a plain full collection frees the garbage of the bodies answered so far.
            if (Volatile.Read(ref _inFlight) > 0)
            {
                Interlocked.Exchange(ref _sinceCollection, 0);
                Interlocked.Increment(ref _collections);
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
            }

            // At the end of a burst (no large request for a moment, so the last ones have let go of their objects)
            // an aggressive one also compacts and decommits it, so the idle server shrinks back. A burst that goes on
            // asks again when it ends.
            await Task.Delay(IdleDelay).ConfigureAwait(false);
            if (Volatile.Read(ref _inFlight) == 0)
            {
                Interlocked.Exchange(ref _sinceCollection, 0);
                Interlocked.Exchange(ref _sinceReturn, 0);
                Interlocked.Increment(ref _collections);
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                if (Interlocked.CompareExchange(ref _followUps, 1, 0) == 0)
                {
                    _ = Task.Run(TrimPoolsLaterAsync);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _collecting, 0);
        }

        // A burst that ended just after the check above found this collection still running.
        if (Volatile.Read(ref _inFlight) == 0 && Interlocked.Read(ref _sinceReturn) >= IdleCollectBytes
            && Interlocked.CompareExchange(ref _collecting, 1, 0) == 0)
        {
            _ = Task.Run(CollectAsync);
        }
    }

    private async Task TrimPoolsLaterAsync()
    {
        try
        {
            // Waits for a quiet period with no large request: one that comes meanwhile starts the wait again.
            while (true)
            {
                var admitted = Interlocked.Read(ref _admitted);
                await Task.Delay(PoolTrimDelay, _disposed.Token).ConfigureAwait(false);
                if (Volatile.Read(ref _inFlight) == 0 && Interlocked.Read(ref _admitted) == admitted)
                {
                    Interlocked.Increment(ref _collections);
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The server stopped.
        }
        finally
        {
            Volatile.Write(ref _followUps, 0);
        }
    }

    public void Dispose()
    {
        // Cancelled, not disposed: a collection still finishing may yet start the wait, which then ends at once.
        _disposed.Cancel();
        _limiter.Dispose();
    }

    private sealed class Lease(BodyBudget budget, RateLimitLease inner, long bytes) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                inner.Dispose();
                budget.Released(bytes);
            }
        }
    }
}
