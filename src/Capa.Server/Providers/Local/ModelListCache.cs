namespace Capa.Server.Providers.Local;

/// <summary>
/// The models a local provider read from the store, kept for a while so that listing and resolving do not scan the
/// disk on every request. Its age is measured on the server's <see cref="TimeProvider"/>.
/// </summary>
internal sealed class ModelListCache<T>(TimeSpan duration, TimeProvider time)
{
    private readonly Lock _lock = new();
    private IReadOnlyList<T> _items = [];
    private DateTimeOffset? _readAt;

    /// <summary>The list read last, or, once it is <c>duration</c> old (or was never read or was dropped), <paramref name="read"/>'s.</summary>
    public IReadOnlyList<T> Get(Func<IReadOnlyList<T>> read)
    {
        lock (_lock)
        {
            if (_readAt is { } readAt && time.GetUtcNow() - readAt < duration)
            {
                return _items;
            }
        }

        var items = read();
        lock (_lock)
        {
            _items = items;
            _readAt = time.GetUtcNow();
            return items;
        }
    }

    /// <summary>Drops the list, so the next <see cref="Get"/> reads the store again.</summary>
    public void Invalidate()
    {
        lock (_lock)
        {
            _readAt = null;
        }
    }
}
