using System.Collections;
using System.Diagnostics;

namespace Capa.Server.Tests.Telemetry;

/// <summary>The in-memory exporter's list, safe to read while other threads' spans are added.</summary>
public sealed class SpanList : ICollection<Activity>
{
    private readonly List<Activity> _items = [];
    private readonly Lock _lock = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    public bool IsReadOnly => false;

    /// <summary>The spans of one trace once at least <paramref name="expected"/> have ended (the request's span ends after its response has been written); whatever there is after a minute.</summary>
    public async Task<IReadOnlyList<Activity>> OfTraceAsync(ActivityTraceId trace, int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var spans = Snapshot().Where(s => s.TraceId == trace).ToArray();
            if (spans.Length >= expected || DateTime.UtcNow > deadline)
            {
                return spans;
            }

            await Task.Delay(50);
        }
    }

    public Activity[] Snapshot()
    {
        lock (_lock)
        {
            return [.. _items];
        }
    }

    public void Add(Activity item)
    {
        lock (_lock)
        {
            _items.Add(item);
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _items.Clear();
        }
    }

    public bool Contains(Activity item)
    {
        lock (_lock)
        {
            return _items.Contains(item);
        }
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_lock)
        {
            _items.CopyTo(array, arrayIndex);
        }
    }

    public bool Remove(Activity item)
    {
        lock (_lock)
        {
            return _items.Remove(item);
        }
    }

    public IEnumerator<Activity> GetEnumerator() => ((IEnumerable<Activity>)Snapshot()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
