using System.Threading.RateLimiting;

namespace Capa.Server.Limits;

/// <summary>
/// Bounds the bytes of large request bodies held at once: a body over <see cref="SmallBody"/> waits (first come,
/// first served) until its size fits the budget, so a burst of huge requests is read and answered a few at a time
/// instead of holding every body, and its parsed text, together. The budget is counted in MiB; a body of unknown
/// length (chunked) counts as the largest body allowed.
/// </summary>
internal sealed class BodyBudget : IDisposable
{
    /// <summary>Bodies up to this size are not counted.</summary>
    public const long SmallBody = 1024 * 1024;

    private const long Unit = 1024 * 1024;
    private readonly ConcurrencyLimiter _limiter;
    private readonly int _budget;
    private readonly long _maxBodyBytes;

    /// <summary>Creates a budget of two of the largest bodies allowed (at least 32 MiB).</summary>
    public BodyBudget(long maxBodyBytes)
    {
        _maxBodyBytes = maxBodyBytes;
        _budget = (int)Math.Clamp(2 * Units(maxBodyBytes), 32, int.MaxValue / 2);
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _budget,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>Waits until a body of <paramref name="contentLength"/> bytes (null: unknown) fits; null for a small body.</summary>
    public async ValueTask<RateLimitLease?> EnterAsync(long? contentLength, CancellationToken cancellationToken)
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
        return await _limiter.AcquireAsync(permits, cancellationToken).ConfigureAwait(false);
    }

    private static long Units(long bytes) => Math.Max(1, (bytes + Unit - 1) / Unit);

    public void Dispose() => _limiter.Dispose();
}
