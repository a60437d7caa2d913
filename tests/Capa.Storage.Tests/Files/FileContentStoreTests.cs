using System.Security.Cryptography;
using Capa.Storage.Files;

namespace Capa.Storage.Tests.Files;

public sealed class FileContentStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("capa-content-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static byte[] Bytes(int length, int seed) => [.. Enumerable.Range(0, length).Select(i => (byte)((i * 31) + seed))];

    private string[] TempFiles() => Directory.GetFiles(Path.Combine(_root, "tmp"));

    [Fact]
    public async Task Staged_content_is_hashed_counted_and_readable_at_its_address_once_committed()
    {
        var store = new FileContentStore(_root);
        var bytes = Bytes(200_000, 3);
        using var staged = await store.StageAsync(new MemoryStream(bytes), 1 << 20, CancellationToken.None);
        Assert.NotNull(staged);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), staged.Sha256);
        Assert.Equal(bytes.Length, staged.Length);
        Assert.Null(store.OpenRead(staged.Sha256));

        staged.Commit();
        await using var read = store.OpenRead(staged.Sha256);
        Assert.NotNull(read);
        var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        Assert.Equal(bytes, copy.ToArray());
        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task Content_over_the_limit_leaves_nothing_on_disk()
    {
        var store = new FileContentStore(_root);
        Assert.Null(await store.StageAsync(new MemoryStream(Bytes(1001, 1)), 1000, CancellationToken.None));
        Assert.Empty(TempFiles());
        using var exact = await store.StageAsync(new MemoryStream(Bytes(1000, 1)), 1000, CancellationToken.None);
        Assert.NotNull(exact);
    }

    [Fact]
    public async Task An_upload_abandoned_midway_leaves_no_temporary_file()
    {
        var store = new FileContentStore(_root);
        var failing = new FailingStream(Bytes(100_000, 2), failAfter: 50_000);
        await Assert.ThrowsAsync<IOException>(() => store.StageAsync(failing, 1 << 20, CancellationToken.None));
        Assert.Empty(TempFiles());

        using (var staged = await store.StageAsync(new MemoryStream(Bytes(10, 2)), 1 << 20, CancellationToken.None))
        {
            Assert.Single(TempFiles());
        }

        // Disposed without a commit: the upload failed after staging (bad form field), nothing stays.
        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task Identical_content_is_stored_once()
    {
        var store = new FileContentStore(_root);
        var bytes = Bytes(5000, 9);
        using var first = await store.StageAsync(new MemoryStream(bytes), 1 << 20, CancellationToken.None);
        using var second = await store.StageAsync(new MemoryStream(bytes), 1 << 20, CancellationToken.None);
        first!.Commit();
        second!.Commit();
        Assert.Single(Directory.GetFiles(Path.Combine(_root, "sha256"), "*", SearchOption.AllDirectories));
        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task Cleaning_removes_what_a_crash_left_but_not_referenced_or_young_content()
    {
        var store = new FileContentStore(_root);
        using var kept = await store.StageAsync(new MemoryStream(Bytes(10, 1)), 100, CancellationToken.None);
        using var orphan = await store.StageAsync(new MemoryStream(Bytes(10, 2)), 100, CancellationToken.None);
        kept!.Commit();
        orphan!.Commit();

        // A crash between the temporary file and the rename: the temporary file stays.
        var crashed = Path.Combine(_root, "tmp", "crashed.part");
        await File.WriteAllBytesAsync(crashed, Bytes(10, 3));

        var referenced = new HashSet<string> { kept.Sha256 };
        Assert.Equal(0, store.Clean(referenced, TimeSpan.FromMinutes(10), DateTimeOffset.UtcNow));
        Assert.Equal(2, store.Clean(referenced, TimeSpan.FromMinutes(10), DateTimeOffset.UtcNow.AddHours(1)));
        Assert.False(File.Exists(crashed));
        Assert.Null(store.OpenRead(orphan.Sha256));
        using var still = store.OpenRead(kept.Sha256);
        Assert.NotNull(still);
    }

    [Fact]
    public void Addresses_are_64_lowercase_hex_digits_and_nothing_else_is_a_path()
    {
        var store = new FileContentStore(_root);
        Assert.True(FileContentStore.IsAddress(new string('a', 64)));
        Assert.False(FileContentStore.IsAddress(new string('A', 64)));
        Assert.False(FileContentStore.IsAddress("../" + new string('a', 61)));
        Assert.Throws<ArgumentException>(() => store.PathOf("../etc/passwd"));
    }

    private sealed class FailingStream(byte[] data, int failAfter) : MemoryStream(data)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= failAfter)
            {
                throw new IOException("The client went away.");
            }

            return await base.ReadAsync(buffer[..Math.Min(buffer.Length, 10_000)], cancellationToken);
        }
    }
}
