namespace Capa.Server.Providers.Local;

/// <summary>
/// The models a local provider has loaded, by folder: each loaded once on first use, even when several requests ask at
/// the same moment, and a failed load forgotten so the next request tries again (the folder may have been repaired).
/// </summary>
internal sealed class LoadedModels<T>
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Lazy<T>> _loaded = new(StringComparer.Ordinal);

    /// <summary>The model of <paramref name="directory"/>, loaded by <paramref name="load"/> the first time.</summary>
    public T GetOrLoad(string directory, Func<T> load)
    {
        Lazy<T> lazy;
        lock (_lock)
        {
            if (!_loaded.TryGetValue(directory, out lazy!))
            {
                lazy = new Lazy<T>(load, LazyThreadSafetyMode.ExecutionAndPublication);
                _loaded[directory] = lazy;
            }
        }

        try
        {
            return lazy.Value;
        }
        catch
        {
            lock (_lock)
            {
                _loaded.Remove(directory);
            }

            throw;
        }
    }

    /// <summary>Hands every model loaded so far to <paramref name="dispose"/> and forgets them all.</summary>
    public void Clear(Action<T> dispose)
    {
        lock (_lock)
        {
            foreach (var lazy in _loaded.Values)
            {
                if (lazy.IsValueCreated)
                {
                    dispose(lazy.Value);
                }
            }

            _loaded.Clear();
        }
    }
}
