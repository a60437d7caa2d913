using Capa.Storage.Files;
using Microsoft.Extensions.Time.Testing;

namespace Capa.Storage.Tests.Files;

/// <summary>The local backend dates what it writes on its <see cref="TimeProvider"/>, never on the machine's clock.</summary>
public sealed class LocalContentBackendTests : IDisposable
{
    private const string Address = "ab00000000000000000000000000000000000000000000000000000000000001";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-local-backend-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task Content_put_and_put_again_is_dated_by_the_injected_clock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2021, 3, 4, 5, 6, 7, TimeSpan.Zero));
        var backend = new LocalContentBackend(Path.Combine(_root, "sha256"), time);

        await backend.PutAsync(Address, Stage("one"), 3, CancellationToken.None);
        Assert.Equal(time.GetUtcNow(), await LastModifiedAsync(backend));

        // Writing the same content again renews its date (an upload that refers to it keeps it from the sweep).
        time.Advance(TimeSpan.FromHours(2));
        await backend.PutAsync(Address, Stage("one"), 3, CancellationToken.None);
        Assert.Equal(time.GetUtcNow(), await LastModifiedAsync(backend));

        // Younger than the cut-off: kept; older: removed.
        Assert.False(await backend.DeleteAsync(Address, time.GetUtcNow() - TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.True(await backend.DeleteAsync(Address, time.GetUtcNow() + TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Null(await backend.OpenReadAsync(Address, CancellationToken.None));
    }

    private string Stage(string text)
    {
        Directory.CreateDirectory(_root);
        var path = Path.Combine(_root, Guid.NewGuid().ToString("N") + ".part");
        File.WriteAllText(path, text);
        return path;
    }

    private static async Task<DateTimeOffset> LastModifiedAsync(LocalContentBackend backend)
    {
        var stored = new List<ContentObject>();
        await foreach (var item in backend.ListAsync(CancellationToken.None))
        {
            stored.Add(item);
        }

        return Assert.Single(stored).LastModified;
    }
}
