using System.Security.Cryptography;
using Capa.Storage.Files;
using Capa.Storage.Files.S3;
using Capa.TestModels.Tests;

namespace Capa.Storage.Tests.Files;

/// <summary>The content store's contract on the local folder.</summary>
public sealed class FileContentStoreTests : FileContentStoreContract
{
    protected override FileContentStore NewStore() => new(_root);

    [Fact]
    public void Local_content_lives_under_sha256_in_the_root()
    {
        Assert.Equal(Path.Combine(_root, "sha256"), NewStore().Location);
    }
}

/// <summary>The same contract on an S3-compatible bucket (s3rver: the S3 REST protocol; signatures are checked by SigV4SignerTests).</summary>
public sealed class S3FileContentStoreTests : FileContentStoreContract, IClassFixture<S3FileContentStoreTests.Bucket>
{
    private readonly Bucket _bucket;

    public S3FileContentStoreTests(Bucket bucket) => _bucket = bucket;

    protected override FileContentStore NewStore()
    {
        Skip.If(S3rver.UnavailableReason is not null, S3rver.UnavailableReason);
        return new(_root, _bucket.Backend(_prefix), shared: true);
    }

    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..8] + "/";

    [SkippableFact]
    public async Task An_unreachable_bucket_is_an_io_error_naming_the_host_and_never_the_secret()
    {
        var down = new S3ContentBackend(new S3Options
        {
            Endpoint = new Uri("http://127.0.0.1:9"), Bucket = "capa", AccessKeyId = "AKID", SecretAccessKey = "the-secret", Timeout = TimeSpan.FromSeconds(5),
        });
        var store = new FileContentStore(_root, down, shared: true);
        using var staged = await store.StageAsync(new MemoryStream(Bytes(10, 1)), 100, CancellationToken.None);
        var error = await Assert.ThrowsAsync<S3Exception>(() => staged!.CommitAsync(CancellationToken.None));
        Assert.Contains("127.0.0.1:9", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("the-secret", error.Message, StringComparison.Ordinal);
        staged!.Dispose();
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "tmp")));
    }

    [SkippableFact]
    public async Task Young_shared_content_is_left_to_the_sweep_and_old_content_is_deleted()
    {
        var store = NewStore();
        using var staged = await store.StageAsync(new MemoryStream(Bytes(100, 4)), 1000, CancellationToken.None);
        await staged!.CommitAsync(CancellationToken.None);

        // Another server may just have referred to content written a moment ago: a delete leaves it.
        await store.DeleteAsync(staged.Sha256, DateTimeOffset.UtcNow, CancellationToken.None);
        await using (var still = await store.OpenReadAsync(staged.Sha256, CancellationToken.None))
        {
            Assert.NotNull(still);
        }

        await store.DeleteAsync(staged.Sha256, DateTimeOffset.UtcNow + FileContentStore.SharedDeleteGuard + TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.Null(await store.OpenReadAsync(staged.Sha256, CancellationToken.None));
    }

    [SkippableFact]
    public async Task Listing_pages_through_more_than_one_page()
    {
        var store = NewStore();
        var backend = _bucket.Backend(_prefix);
        var expected = new HashSet<string>();
        for (var i = 0; i < 1005; i++)
        {
            using var staged = await store.StageAsync(new MemoryStream(BitConverter.GetBytes(i)), 100, CancellationToken.None);
            await staged!.CommitAsync(CancellationToken.None);
            expected.Add(staged.Sha256);
        }

        var listed = new HashSet<string>();
        await foreach (var item in backend.ListAsync(CancellationToken.None))
        {
            listed.Add(item.Sha256);
        }

        Assert.Equal(expected, listed);
    }

    /// <summary>One s3rver for the class.</summary>
    public sealed class Bucket : IDisposable
    {
        internal S3rver? Server { get; } = S3rver.UnavailableReason is null ? S3rver.Start() : null;

        public S3ContentBackend Backend(string prefix) => new(new S3Options
        {
            Endpoint = Server!.Endpoint, Bucket = Server.Bucket, Prefix = prefix, AccessKeyId = S3rver.AccessKey, SecretAccessKey = S3rver.SecretKey,
        });

        public void Dispose() => Server?.Dispose();
    }
}

/// <summary>What every content backend must do, run on each.</summary>
public abstract class FileContentStoreContract : IDisposable
{
    protected readonly string _root = Directory.CreateTempSubdirectory("capa-content-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    protected abstract FileContentStore NewStore();

    protected static byte[] Bytes(int length, int seed) => [.. Enumerable.Range(0, length).Select(i => (byte)((i * 31) + seed))];

    private string[] TempFiles() => Directory.GetFiles(Path.Combine(_root, "tmp"));

    [SkippableFact]
    public async Task Staged_content_is_hashed_counted_and_readable_at_its_address_once_committed()
    {
        var store = NewStore();
        var bytes = Bytes(200_000, 3);
        using var staged = await store.StageAsync(new MemoryStream(bytes), 1 << 20, CancellationToken.None);
        Assert.NotNull(staged);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), staged.Sha256);
        Assert.Equal(bytes.Length, staged.Length);
        Assert.Null(await store.OpenReadAsync(staged.Sha256, CancellationToken.None));

        await staged.CommitAsync(CancellationToken.None);
        await using var read = await store.OpenReadAsync(staged.Sha256, CancellationToken.None);
        Assert.NotNull(read);
        var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        Assert.Equal(bytes, copy.ToArray());
        Assert.Empty(TempFiles());
    }

    [SkippableFact]
    public async Task Content_over_the_limit_leaves_nothing_on_disk()
    {
        var store = NewStore();
        Assert.Null(await store.StageAsync(new MemoryStream(Bytes(1001, 1)), 1000, CancellationToken.None));
        Assert.Empty(TempFiles());
        using var exact = await store.StageAsync(new MemoryStream(Bytes(1000, 1)), 1000, CancellationToken.None);
        Assert.NotNull(exact);
    }

    [SkippableFact]
    public async Task An_upload_abandoned_midway_leaves_no_temporary_file()
    {
        var store = NewStore();
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

    [SkippableFact]
    public async Task Identical_content_is_stored_once()
    {
        var store = NewStore();
        var bytes = Bytes(5000, 9);
        using var first = await store.StageAsync(new MemoryStream(bytes), 1 << 20, CancellationToken.None);
        using var second = await store.StageAsync(new MemoryStream(bytes), 1 << 20, CancellationToken.None);
        await first!.CommitAsync(CancellationToken.None);
        await second!.CommitAsync(CancellationToken.None);
        await using (var read = await store.OpenReadAsync(first.Sha256, CancellationToken.None))
        {
            var copy = new MemoryStream();
            await read!.CopyToAsync(copy);
            Assert.Equal(bytes, copy.ToArray());
        }

        // One object: a sweep with nothing referenced removes exactly one.
        Assert.Equal(1, await store.CleanAsync(new HashSet<string>(), TimeSpan.FromMinutes(10), DateTimeOffset.UtcNow.AddHours(1), CancellationToken.None));
        Assert.Empty(TempFiles());
    }

    [SkippableFact]
    public async Task Cleaning_removes_what_a_crash_left_but_not_referenced_or_young_content()
    {
        var store = NewStore();
        using var kept = await store.StageAsync(new MemoryStream(Bytes(10, 1)), 100, CancellationToken.None);
        using var orphan = await store.StageAsync(new MemoryStream(Bytes(10, 2)), 100, CancellationToken.None);
        await kept!.CommitAsync(CancellationToken.None);
        await orphan!.CommitAsync(CancellationToken.None);

        // A crash between the temporary file and the rename: the temporary file stays.
        var crashed = Path.Combine(_root, "tmp", "crashed.part");
        await File.WriteAllBytesAsync(crashed, Bytes(10, 3));

        var referenced = new HashSet<string> { kept.Sha256 };
        Assert.Equal(0, await store.CleanAsync(referenced, TimeSpan.FromMinutes(10), DateTimeOffset.UtcNow, CancellationToken.None));
        Assert.Equal(2, await store.CleanAsync(referenced, TimeSpan.FromMinutes(10), DateTimeOffset.UtcNow.AddHours(1), CancellationToken.None));
        Assert.False(File.Exists(crashed));
        Assert.Null(await store.OpenReadAsync(orphan.Sha256, CancellationToken.None));
        await using var still = await store.OpenReadAsync(kept.Sha256, CancellationToken.None);
        Assert.NotNull(still);
    }

    [SkippableFact]
    public async Task Addresses_are_64_lowercase_hex_digits_and_nothing_else_is_a_path()
    {
        var store = NewStore();
        Assert.True(FileContentStore.IsAddress(new string('a', 64)));
        Assert.False(FileContentStore.IsAddress(new string('A', 64)));
        Assert.False(FileContentStore.IsAddress("../" + new string('a', 61)));
        await Assert.ThrowsAsync<ArgumentException>(() => store.OpenReadAsync("../etc/passwd", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.DeleteAsync("../etc/passwd", DateTimeOffset.UtcNow, CancellationToken.None));
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
