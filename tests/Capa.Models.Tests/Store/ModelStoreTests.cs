using Capa.Models;
using Capa.Models.Store;
using Microsoft.Extensions.Time.Testing;

namespace Capa.Models.Tests.Store;

public sealed class ModelStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-store-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private string Place(string id, params (string Path, string Content)[] files)
    {
        var dir = Path.Combine(_root, id.Replace('/', Path.DirectorySeparatorChar));
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(dir, path.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
        }

        return dir;
    }

    private const string QwenConfig = """{"architectures":["Qwen2ForCausalLM"],"model_type":"qwen2"}""";

    [Fact]
    public void Folders_set_aside_are_deleted_once_older_than_ten_minutes_on_the_stores_clock()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2031, 7, 8, 9, 10, 11, TimeSpan.Zero));
        var store = new ModelStore(_root, clock);

        // What an earlier removal could not delete (a file in use, a killed process), named by when it was set aside.
        string SetAside(TimeSpan ago)
        {
            var dir = Path.Combine(store.PartialRoot, $".trash-{(clock.GetUtcNow() - ago).UtcTicks}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "config.json"), QwenConfig);
            return dir;
        }

        var old = SetAside(TimeSpan.FromMinutes(11));
        var recent = SetAside(TimeSpan.FromMinutes(9));
        Place("org/gone", ("config.json", QwenConfig));

        // A removal collects what is old enough; a recent one may be a model a concurrent install still restores.
        Assert.True(store.Remove("org/gone"));
        Assert.False(Directory.Exists(old));
        Assert.True(Directory.Exists(recent));

        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.False(store.Remove("org/gone"));
        Assert.False(Directory.Exists(recent));
    }

    [Fact]
    public void Discarding_a_download_deletes_its_folder_in_any_letter_case_and_keeps_the_installed_model()
    {
        var store = new ModelStore(_root);
        Place("Org/Name", ("config.json", QwenConfig));
        var partial = Path.Combine(store.PartialRoot, "Org--Name");
        Directory.CreateDirectory(Path.Combine(partial, "onnx"));
        File.WriteAllText(Path.Combine(partial, "onnx", "model_q4.onnx.capa-part"), "partial bytes");
        var other = Path.Combine(store.PartialRoot, "org--other");
        Directory.CreateDirectory(other);

        Assert.True(store.DiscardDownload("org/name"));

        Assert.False(Directory.Exists(partial));
        Assert.True(Directory.Exists(other));
        Assert.Equal("Org/Name", Assert.Single(store.List()).Id);
        Assert.False(store.DiscardDownload("org/name"));
    }

    [Fact]
    public void A_download_a_pull_still_holds_is_not_discarded()
    {
        var store = new ModelStore(_root);
        var partial = store.PartialPathFor("org/name");
        Directory.CreateDirectory(partial);
        using (PullLock.TryAcquire(store, "org/name"))
        {
            Assert.False(store.DiscardDownload("org/name"));
            Assert.True(Directory.Exists(partial));
        }

        Assert.True(store.DiscardDownload("org/name"));
    }

    [Fact]
    public void The_fingerprint_covers_every_pulled_file_and_none_is_claimed_for_a_folder_placed_by_hand()
    {
        ModelManifest Manifest(params ManifestFile[] files) => new() { Id = "org/name", Revision = "main", Variant = ModelVariant.Q4, Files = files };
        var a = Manifest(new("config.json", 10, new string('a', 64)), new("onnx/model_q4.onnx", 20, new string('b', 64)));
        var reordered = Manifest(new("onnx/model_q4.onnx", 20, new string('b', 64)), new("config.json", 10, new string('a', 64)));
        var changed = Manifest(new("config.json", 10, new string('a', 64)), new("onnx/model_q4.onnx", 20, new string('c', 64)));

        Assert.Matches("^sha256:[0-9a-f]{64}$", a.ComputeFingerprint());
        Assert.Equal(a.ComputeFingerprint(), reordered.ComputeFingerprint());
        Assert.NotEqual(a.ComputeFingerprint(), changed.ComputeFingerprint());

        Place("org/byhand", ("config.json", QwenConfig));
        Assert.Null(new ModelStore(_root).Find("org/byhand")!.Fingerprint);
    }

    [Fact]
    public void A_store_whose_folder_does_not_exist_is_empty()
    {
        var store = new ModelStore(_root);

        Assert.Empty(store.List());
        Assert.Null(store.Find("org/name"));
        Assert.False(store.Remove("org/name"));
    }

    [Fact]
    public void Folders_placed_by_hand_are_listed_when_they_have_a_config()
    {
        Place("onnx-community/Qwen2.5-0.5B-Instruct", ("config.json", QwenConfig), ("tokenizer.json", "{}"), ("onnx/model_q4.onnx", "12345"));
        Place("org/no-config", ("tokenizer.json", "{}"));
        Place(".partial/org--x", ("config.json", QwenConfig));
        Place("org/.hidden", ("config.json", QwenConfig));

        var model = Assert.Single(new ModelStore(_root).List());

        Assert.Equal("onnx-community/Qwen2.5-0.5B-Instruct", model.Id);
        Assert.Equal(Path.Combine(_root, "onnx-community", "Qwen2.5-0.5B-Instruct"), model.Directory);
        Assert.Equal(ModelVariant.Q4, model.Variant);
        Assert.Equal(QwenConfig.Length + 2 + 5, model.SizeBytes);
        Assert.Equal([ModelCapabilities.Chat], model.Capabilities);
        Assert.Null(model.Revision);
        Assert.Null(model.Manifest);
    }

    [Fact]
    public void The_variant_of_a_folder_with_several_is_unknown()
    {
        Place("org/two", ("config.json", QwenConfig), ("onnx/model_q4.onnx", "x"), ("onnx/model.onnx", "x"), ("onnx/model.onnx_data", "x"));

        Assert.Null(new ModelStore(_root).Find("org/two")!.Variant);
    }

    [Fact]
    public void A_manifest_gives_variant_and_revision_and_survives_a_round_trip()
    {
        var dir = Place("org/pulled", ("config.json", QwenConfig));
        var manifest = new ModelManifest
        {
            Id = "org/pulled",
            Revision = "main",
            Commit = "abc123",
            Variant = ModelVariant.Int8,
            Endpoint = "https://huggingface.co",
            PulledAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
            Files = [new ManifestFile("config.json", QwenConfig.Length, new string('a', 64))],
        };
        manifest.Write(Path.Combine(dir, ModelManifest.FileName));

        var model = new ModelStore(_root).Find("org/pulled")!;

        Assert.Equal(ModelVariant.Int8, model.Variant);
        Assert.Equal("main", model.Revision);
        Assert.Equal("abc123", model.Commit);
        Assert.Equal(manifest.Files, model.Manifest!.Files);
        Assert.Equal(manifest with { Files = model.Manifest.Files }, model.Manifest);
        Assert.Contains("\"variant\": \"int8\"", File.ReadAllText(Path.Combine(dir, ModelManifest.FileName)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_manifest_does_not_hide_the_model()
    {
        var dir = Place("org/damaged", ("config.json", QwenConfig), ("onnx/model_fp16.onnx", "x"));
        File.WriteAllText(Path.Combine(dir, ModelManifest.FileName), "{ not json");

        var model = new ModelStore(_root).Find("org/damaged")!;

        Assert.Null(model.Manifest);
        Assert.Equal(ModelVariant.Fp16, model.Variant);
    }

    [Fact]
    public void Find_matches_ids_case_insensitively_and_refuses_invalid_ids()
    {
        Place("Org/Model", ("config.json", QwenConfig));
        var store = new ModelStore(_root);

        Assert.Equal("Org/Model", store.Find("org/model")?.Id);
        Assert.Throws<ArgumentException>(() => store.Find("../../etc"));
        Assert.Throws<ArgumentException>(() => store.PathFor("a/b/c"));
        Assert.Throws<ArgumentException>(() => store.PathFor(".partial"));
    }

    [Fact]
    public void Both_layouts_are_models_NAME_directly_under_the_root_and_ORG_NAME_one_level_deeper()
    {
        Place("qwen2-tiny", ("config.json", QwenConfig), ("onnx/model_q4.onnx", "x"));
        Place("onnx-community/Qwen2.5-0.5B-Instruct", ("config.json", QwenConfig), ("onnx/model.onnx", "x"));
        var store = new ModelStore(_root);

        var models = store.List();

        Assert.Equal(["onnx-community/Qwen2.5-0.5B-Instruct", "qwen2-tiny"], models.Select(m => m.Id));
        Assert.Equal(Path.Combine(_root, "qwen2-tiny"), models[1].Directory);
        Assert.Equal(ModelVariant.Q4, models[1].Variant);
        Assert.Equal([ModelCapabilities.Chat], models[1].Capabilities);

        // The id capa list shows is the id that finds it again, and the one the server serves.
        Assert.Equal(Path.Combine(_root, "qwen2-tiny"), store.PathFor("qwen2-tiny"));
        Assert.Equal("qwen2-tiny", store.Find("qwen2-tiny")?.Id);
        Assert.Equal("qwen2-tiny", store.Find("QWEN2-TINY")?.Id);

        // A model's own subfolders (onnx/) are never models of their own, and it is not an org.
        Assert.Empty(store.Scan().Ignored);
    }

    [Fact]
    public void Folders_that_are_not_models_are_reported_with_the_reason_and_the_expected_layout()
    {
        Place("notes", ("todo.txt", "x"));
        Place("org/complete", ("config.json", QwenConfig));
        Place("org/half-copied", ("tokenizer.json", "{}"));
        Place("deep/er/model", ("config.json", QwenConfig));
        Place("bad name", ("config.json", QwenConfig));
        Place(".partial/org--x", ("config.json", QwenConfig));

        var scan = new ModelStore(_root).Scan();

        Assert.Equal(["org/complete"], scan.Models.Select(m => m.Id));
        var ignored = scan.Ignored.ToDictionary(i => Path.GetRelativePath(_root, i.Directory).Replace('\\', '/'), i => i.Reason);
        Assert.Equal(["bad name", "deep", "notes", "org/half-copied"], ignored.Keys.Order(StringComparer.Ordinal));
        Assert.All(ignored.Where(i => i.Key != "bad name"), i => Assert.Contains("NAME/", i.Value, StringComparison.Ordinal));
        Assert.All(ignored.Where(i => i.Key != "bad name"), i => Assert.Contains("ORG/NAME/", i.Value, StringComparison.Ordinal));
        Assert.Contains("not a usable model id", ignored["bad name"], StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_the_store_writes_nothing_into_it()
    {
        Place("qwen2-tiny", ("config.json", QwenConfig), ("onnx/model_q4.onnx", "x"));
        Place("org/model", ("config.json", QwenConfig));
        Place("notes", ("todo.txt", "x"));
        var before = Snapshot();
        var store = new ModelStore(_root);

        store.Scan();
        store.List();
        store.Find("qwen2-tiny");
        store.Find("org/model");
        store.Find("missing");

        Assert.Equal(before, Snapshot());
    }

    private List<string> Snapshot() =>
        [.. Directory.EnumerateFileSystemEntries(_root, "*", SearchOption.AllDirectories)
            .Select(p => $"{Path.GetRelativePath(_root, p)} {(File.Exists(p) ? new FileInfo(p).Length : -1)} {File.GetLastWriteTimeUtc(p).Ticks}")
            .Order(StringComparer.Ordinal)];

    [Fact]
    public void PathFor_is_org_then_name_under_the_root()
    {
        var store = new ModelStore(_root);

        Assert.Equal(Path.Combine(_root, "org", "name"), store.PathFor("org/name"));
        Assert.Equal(Path.Combine(_root, ".partial", "org--name"), store.PartialPathFor("org/name"));
    }

    [Fact]
    public void Remove_deletes_the_model_its_empty_org_folder_and_any_partial_download()
    {
        Place("org/a", ("config.json", QwenConfig), ("onnx/model_q4.onnx", "x"));
        Place("other/b", ("config.json", QwenConfig));
        Place(".partial/org--a", ("onnx/model_q4.onnx.capa-part", "x"));
        var store = new ModelStore(_root);

        Assert.True(store.Remove("org/a"));

        Assert.False(Directory.Exists(Path.Combine(_root, "org")));
        Assert.False(Directory.Exists(store.PartialPathFor("org/a")));
        Assert.Equal(["other/b"], store.List().Select(m => m.Id));
        Assert.False(store.Remove("org/a"));
    }

    [Fact]
    public void Install_moves_a_folder_in_and_replaces_the_previous_model_whole()
    {
        Place("org/m", ("config.json", QwenConfig), ("onnx/model_q4.onnx", "old"), ("old-only.txt", "x"));
        var store = new ModelStore(_root);
        var staging = Path.Combine(store.PartialRoot, "org--m");
        Directory.CreateDirectory(Path.Combine(staging, "onnx"));
        File.WriteAllText(Path.Combine(staging, "config.json"), """{"architectures":["WhisperForConditionalGeneration"],"model_type":"whisper"}""");
        File.WriteAllText(Path.Combine(staging, "onnx", "encoder_model_int8.onnx"), "new");

        var model = store.Install("org/m", staging);

        Assert.False(Directory.Exists(staging));
        Assert.False(File.Exists(Path.Combine(model.Directory, "old-only.txt")));
        Assert.False(File.Exists(Path.Combine(model.Directory, "onnx", "model_q4.onnx")));
        Assert.Equal([ModelCapabilities.Transcription], model.Capabilities);
        Assert.Equal(ModelVariant.Int8, model.Variant);
        Assert.Empty(Directory.GetDirectories(store.PartialRoot));
    }

    [Fact]
    public void Install_of_a_missing_folder_keeps_the_model_there()
    {
        Place("org/m", ("config.json", QwenConfig));
        var store = new ModelStore(_root);

        Assert.Throws<DirectoryNotFoundException>(() => store.Install("org/m", Path.Combine(_root, "nowhere")));

        Assert.NotNull(store.Find("org/m"));
    }

    [Fact]
    public void DefaultRoot_is_CAPA_MODELS_when_set_else_under_the_home_folder()
    {
        var saved = Environment.GetEnvironmentVariable(ModelStore.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(ModelStore.EnvironmentVariable, _root);
            Assert.Equal(Path.GetFullPath(_root), ModelStore.DefaultRoot());
            Assert.Equal(Path.GetFullPath(_root), ModelStore.Open(null).Root);
            Assert.Equal(Path.GetFullPath("/tmp/elsewhere"), ModelStore.Open("/tmp/elsewhere").Root);

            Environment.SetEnvironmentVariable(ModelStore.EnvironmentVariable, null);
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            Assert.Equal(Path.Combine(home, ".capa", "models"), ModelStore.DefaultRoot());
        }
        finally
        {
            Environment.SetEnvironmentVariable(ModelStore.EnvironmentVariable, saved);
        }
    }
}
