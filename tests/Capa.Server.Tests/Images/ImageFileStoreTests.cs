using Capa.Server.Images;
using Microsoft.Extensions.Logging.Abstractions;

namespace Capa.Server.Tests.Images;

public sealed class ImageFileStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "capa-image-files-" + Guid.NewGuid().ToString("N"));
    private readonly ManualTimeProvider _clock = new();

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private ImageFileStore Create(long maxBytes = 1 << 20) => new(
        new ImageOptions { FilesDirectory = _directory, MaxFileBytes = maxBytes, UrlLifetime = TimeSpan.FromMinutes(60) },
        _clock,
        NullLogger<ImageFileStore>.Instance);

    [Fact]
    public void Names_are_unguessable_and_images_expire_after_the_lifetime()
    {
        using ImageFileStore store = Create();
        string a = store.Add(new byte[10], "png", "image/png");
        string b = store.Add(new byte[10], "png", "image/png");
        Assert.NotEqual(a, b);
        Assert.Matches("^img_[0-9a-f]{64}\\.png$", a);
        Assert.True(store.TryGet(a, out string path, out string type));
        Assert.Equal("image/png", type);
        Assert.True(File.Exists(path));
        Assert.False(store.TryGet("img_" + new string('0', 64) + ".png", out _, out _));

        _clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, store.Sweep());
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.False(store.TryGet(a, out _, out _));
        Assert.False(File.Exists(path));
        Assert.Equal(1, store.Sweep());
        Assert.Equal((0, 0L), store.Usage);
        Assert.Empty(Directory.EnumerateFiles(_directory));
    }

    [Fact]
    public void Disk_use_is_bounded_by_deleting_the_oldest()
    {
        using ImageFileStore store = Create(maxBytes: 250);
        var names = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            names.Add(store.Add(new byte[100], "png", "image/png"));
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.True(store.Usage.Bytes <= 250);
        Assert.Equal(2, store.Usage.Count);
        Assert.False(store.TryGet(names[0], out _, out _));
        Assert.True(store.TryGet(names[4], out _, out _));
        Assert.Equal(2, Directory.EnumerateFiles(_directory).Count());
    }

    [Fact]
    public void Files_left_by_an_earlier_run_are_removed()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllBytes(Path.Combine(_directory, "img_stale.png"), [1]);
        using ImageFileStore store = Create();
        Assert.False(File.Exists(Path.Combine(_directory, "img_stale.png")));
    }
}
