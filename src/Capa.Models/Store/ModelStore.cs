namespace Capa.Models.Store;

/// <summary>
/// The local model store: one folder per model, <c>{root}/{org}/{name}/</c> (id <c>ORG/NAME</c>, as pulls write them) or
/// <c>{root}/{name}/</c> (id <c>NAME</c>, a folder placed by hand directly under the root), holding the Hugging Face
/// repository files in their repository layout plus a <see cref="ModelManifest"/> (<c>.capa-model.json</c>) when pulled.
/// A folder counts as a model when it has a <c>config.json</c> (or a diffusers <c>model_index.json</c>, or a manifest);
/// <see cref="Scan"/> says which folders are not models and why. Names starting with '.' are the store's own
/// (<c>.partial/</c> holds downloads in progress). Reading the store never writes to it.
/// </summary>
/// <remarks>
/// A model folder only ever appears complete: pulls download into <c>.partial/</c> and <see cref="Install"/> moves the
/// finished folder into place with a rename; removal renames the folder away before deleting it.
/// </remarks>
public sealed class ModelStore
{
    /// <summary>The environment variable that sets the store's root when no folder is given.</summary>
    public const string EnvironmentVariable = "CAPA_MODELS";

    /// <summary>The folder, under the root, that holds downloads in progress and folders being replaced or removed.</summary>
    public const string PartialFolderName = ".partial";

    private const string TrashPrefix = ".trash-";

    private readonly TimeProvider _time;

    /// <summary>Opens (without creating) the store at <paramref name="root"/>.</summary>
    public ModelStore(string root)
        : this(root, TimeProvider.System)
    {
    }

    /// <summary>
    /// Opens (without creating) the store at <paramref name="root"/>, dating what removals set aside by
    /// <paramref name="time"/> (a folder set aside is deleted for good once it is a few minutes old on that clock).
    /// </summary>
    public ModelStore(string root, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        ArgumentNullException.ThrowIfNull(time);
        Root = Path.GetFullPath(ExpandHome(root));
        _time = time;
    }

    /// <summary>The store's root folder (full path).</summary>
    public string Root { get; }

    /// <summary>Where downloads in progress live: <c>{root}/.partial</c>.</summary>
    public string PartialRoot => Path.Combine(Root, PartialFolderName);

    /// <summary>
    /// The root used when none is given: <c>CAPA_MODELS</c> when set, else <c>~/.capa/models</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Neither <c>CAPA_MODELS</c> nor a home folder is known.</exception>
    public static string DefaultRoot()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Path.GetFullPath(ExpandHome(fromEnvironment.Trim()));
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home))
        {
            throw new InvalidOperationException($"No home folder is known: set {EnvironmentVariable} to the folder that should hold models.");
        }

        return Path.Combine(home, ".capa", "models");
    }

    /// <summary>The environment variable that sets where Capa keeps its own files (built-in models, digest caches).</summary>
    public const string CacheEnvironmentVariable = "CAPA_CACHE";

    /// <summary>
    /// Where Capa keeps files of its own, never inside a models folder (which may be the user's): <c>CAPA_CACHE</c> when
    /// set, else <c>~/.capa/cache</c>, else (no home folder, as for some service accounts) a folder under the system's
    /// temporary folder: everything in it can be made again.
    /// </summary>
    public static string DefaultCacheRoot()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(CacheEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Path.GetFullPath(ExpandHome(fromEnvironment.Trim()));
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home)
            ? Path.Combine(Path.GetTempPath(), "capa-cache-" + Environment.UserName)
            : Path.Combine(home, ".capa", "cache");
    }

    /// <summary>The store at <paramref name="root"/> when given (e.g. <c>--models-dir</c>), else at <see cref="DefaultRoot"/>.</summary>
    public static ModelStore Open(string? root) => Open(root, TimeProvider.System);

    /// <summary>The store at <paramref name="root"/> when given, else at <see cref="DefaultRoot"/>, on the clock <paramref name="time"/>.</summary>
    public static ModelStore Open(string? root, TimeProvider time) => new(string.IsNullOrWhiteSpace(root) ? DefaultRoot() : root, time);

    /// <summary>What makes a folder a model, for messages about folders that are not.</summary>
    public const string ExpectedLayout =
        "a model is a folder with config.json (or model_index.json), either directly under the models folder (NAME/, served as NAME) "
        + "or one level deeper (ORG/NAME/, served as ORG/NAME)";

    /// <summary>
    /// The folder of the model <paramref name="id"/>, whether or not it exists: <c>{root}/{org}/{name}</c> for
    /// <c>ORG/NAME</c>, <c>{root}/{name}</c> for a bare <c>NAME</c>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not a valid id.</exception>
    public string PathFor(string id)
    {
        if (!ModelId.IsValidLocal(id, out var error))
        {
            throw new ArgumentException(error, nameof(id));
        }

        return Path.Combine([Root, .. id.Split('/')]);
    }

    /// <summary>The folder a pull of <paramref name="id"/> downloads into: <c>{root}/.partial/{org}--{name}</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not a valid <c>ORG/NAME</c> id.</exception>
    public string PartialPathFor(string id)
    {
        var (org, name) = ModelId.Split(id);
        return Path.Combine(PartialRoot, $"{org}--{name}");
    }

    /// <summary>Every model in the store, sorted by id. Folders that vanish or cannot be read while listing are skipped.</summary>
    public IReadOnlyList<StoredModel> List() => Scan().Models;

    /// <summary>
    /// Every model in the store, sorted by id, and every folder that looks meant as one but is not served, with the reason.
    /// A folder directly under the root is a model (<c>NAME</c>) when it has a <c>config.json</c>; otherwise its subfolders
    /// are (<c>ORG/NAME</c>). Deeper folders are a model's own (e.g. <c>onnx/</c>) and never models themselves.
    /// </summary>
    public StoreScan Scan()
    {
        var models = new List<StoredModel>();
        var ignored = new List<IgnoredFolder>();
        foreach (var topDir in SafeDirectories(Root))
        {
            var top = Path.GetFileName(topDir);
            if (top.StartsWith('.'))
            {
                continue;
            }

            if (LooksLikeModel(topDir))
            {
                Add(top, topDir);
                continue;
            }

            var inner = SafeDirectories(topDir).Where(d => !Path.GetFileName(d).StartsWith('.')).ToList();
            var modelsInside = inner.Where(LooksLikeModel).ToList();
            if (modelsInside.Count == 0)
            {
                ignored.Add(new IgnoredFolder(topDir, inner.Count == 0
                    ? $"no config.json in it: {ExpectedLayout}"
                    : $"no config.json in it nor in any of its subfolders: {ExpectedLayout}"));
                continue;
            }

            foreach (var modelDir in modelsInside)
            {
                Add($"{top}/{Path.GetFileName(modelDir)}", modelDir);
            }

            foreach (var other in inner.Except(modelsInside))
            {
                ignored.Add(new IgnoredFolder(other, $"no config.json in it: {ExpectedLayout}"));
            }
        }

        models.Sort((a, b) => string.Compare(a.Id, b.Id, StringComparison.OrdinalIgnoreCase));
        return new StoreScan(models, ignored);

        void Add(string id, string directory)
        {
            if (!ModelId.IsValidLocal(id, out var error))
            {
                ignored.Add(new IgnoredFolder(directory, $"its path is not a usable model id. {error}"));
            }
            else if (Read(id, directory) is { } model)
            {
                models.Add(model);
            }
            else
            {
                ignored.Add(new IgnoredFolder(directory, "it could not be read"));
            }
        }
    }

    /// <summary>
    /// The model <paramref name="id"/>, or <see langword="null"/> when the store has none. Ids match case-insensitively,
    /// as on the hub, when no folder has the exact casing.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not a valid id (<c>ORG/NAME</c> or <c>NAME</c>).</exception>
    public StoredModel? Find(string id)
    {
        var exact = PathFor(id);
        if (Directory.Exists(exact) && Read(id, exact) is { } model)
        {
            return model;
        }

        return List().FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Removes the model <paramref name="id"/> and any unfinished download of it (unless a pull of it is running).
    /// The folder is renamed away first, so readers never see a half-deleted model.
    /// </summary>
    /// <returns>Whether there was anything to remove.</returns>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not a valid id (<c>ORG/NAME</c> or <c>NAME</c>).</exception>
    /// <exception cref="IOException">The folder could not be moved away (e.g. a file is in use on Windows).</exception>
    public bool Remove(string id)
    {
        var removed = false;
        var model = Find(id);
        if (model is not null)
        {
            var trash = MoveToTrash(model.Directory);
            TryDeleteDirectory(trash);
            TryDeleteEmptyDirectory(Path.GetDirectoryName(model.Directory)!);
            removed = true;
        }

        // Only pulls download, and only hub ids (ORG/NAME) are pulled.
        var pulledId = model?.Id ?? id;
        var partial = ModelId.IsValid(pulledId, out _) ? PartialPathFor(pulledId) : null;
        if (partial is not null && Directory.Exists(partial))
        {
            using var pullLock = PullLock.TryAcquire(this, model?.Id ?? id);
            if (pullLock is not null)
            {
                TryDeleteDirectory(partial);
                removed = true;
            }
        }

        CollectTrash();
        return removed;
    }

    /// <summary>
    /// Deletes the unfinished download of <paramref name="id"/> (<c>ORG/NAME</c>, matched case-insensitively as on the
    /// hub) unless a pull of it is running, leaving any installed copy of the model alone. Used when a pull is abandoned
    /// for good rather than interrupted to be resumed.
    /// </summary>
    /// <returns>Whether a download folder was deleted.</returns>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not a valid <c>ORG/NAME</c> id.</exception>
    public bool DiscardDownload(string id)
    {
        var wanted = Path.GetFileName(PartialPathFor(id));
        var discarded = false;
        foreach (var directory in SafeDirectories(PartialRoot))
        {
            if (!string.Equals(Path.GetFileName(directory), wanted, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            using var pullLock = PullLock.TryAcquireAt(directory + PullLock.Suffix);
            if (pullLock is not null)
            {
                TryDeleteDirectory(directory);
                discarded |= !Directory.Exists(directory);
            }
        }

        return discarded;
    }

    /// <summary>
    /// Moves the complete model folder <paramref name="sourceDirectory"/> into the store as <paramref name="id"/>, replacing
    /// any model with that id. The source must be on the store's file system (e.g. under <see cref="PartialRoot"/>):
    /// the move is a rename, so the model appears at once and whole. A replaced model is renamed away first and restored
    /// when the move fails.
    /// </summary>
    /// <returns>The installed model.</returns>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not a valid id.</exception>
    /// <exception cref="DirectoryNotFoundException"><paramref name="sourceDirectory"/> does not exist.</exception>
    public StoredModel Install(string id, string sourceDirectory)
    {
        var target = PathFor(id);
        var source = Path.GetFullPath(sourceDirectory);
        if (!Directory.Exists(source))
        {
            throw new DirectoryNotFoundException($"Cannot install '{id}': folder '{source}' does not exist.");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);

        // Another casing of the same id is the same model on the hub: replace it rather than keep two.
        var existing = Directory.Exists(target) ? target : Find(id)?.Directory;
        var aside = existing is null ? null : MoveToTrash(existing);
        try
        {
            Directory.Move(source, target);
        }
        catch
        {
            if (aside is not null && !Directory.Exists(existing))
            {
                Directory.Move(aside, existing!);
            }

            throw;
        }

        if (aside is not null)
        {
            TryDeleteDirectory(aside);
            if (existing is not null && !string.Equals(Path.GetDirectoryName(existing), Path.GetDirectoryName(target), StringComparison.Ordinal))
            {
                TryDeleteEmptyDirectory(Path.GetDirectoryName(existing)!);
            }
        }

        return Read(id, target) ?? throw new InvalidDataException($"'{target}' was installed but holds no config.json.");
    }

    private static bool LooksLikeModel(string directory) =>
        File.Exists(Path.Combine(directory, "config.json"))
        || File.Exists(Path.Combine(directory, "model_index.json"))
        || File.Exists(Path.Combine(directory, ModelManifest.FileName));

    private static StoredModel? Read(string id, string directory)
    {
        try
        {
            var manifest = ModelManifest.TryRead(Path.Combine(directory, ModelManifest.FileName));
            if (manifest is null && !File.Exists(Path.Combine(directory, "config.json")) && !File.Exists(Path.Combine(directory, "model_index.json")))
            {
                return null;
            }

            var files = new List<string>();
            long size = 0;
            foreach (var info in new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                size += info.Length;
                files.Add(Path.GetRelativePath(directory, info.FullName).Replace('\\', '/'));
            }

            var variant = manifest?.Variant ?? InferVariant(files);
            return new StoredModel(id, directory, variant, size, ModelCapabilities.Detect(directory, files), manifest?.Revision, manifest);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The variant of a folder placed by hand: the one its ONNX files carry when they all carry the same one.</summary>
    private static ModelVariant? InferVariant(IEnumerable<string> files)
    {
        ModelVariant? found = null;
        foreach (var file in files)
        {
            if (!OnnxFileNaming.TryParse(file, out _, out var name))
            {
                continue;
            }

            var variant = OnnxFileNaming.ToVariant(name);
            if (variant is null || (found is not null && found != variant))
            {
                return null;
            }

            found = variant;
        }

        return found;
    }

    /// <summary>How old a folder set aside must be before <see cref="CollectTrash"/> deletes it.</summary>
    private static readonly TimeSpan TrashAge = TimeSpan.FromMinutes(10);

    private string MoveToTrash(string directory)
    {
        Directory.CreateDirectory(PartialRoot);
        var trash = Path.Combine(PartialRoot, $"{TrashPrefix}{_time.GetUtcNow().UtcTicks}-{Guid.NewGuid():N}");
        Directory.Move(directory, trash);
        return trash;
    }

    /// <summary>
    /// Deletes what earlier removals could not (a file was in use, the process was killed). Only folders set aside
    /// more than a few minutes ago: a recent one may be a replaced model that a concurrent install still restores.
    /// </summary>
    private void CollectTrash()
    {
        var cutoff = (_time.GetUtcNow() - TrashAge).UtcTicks;
        foreach (var dir in SafeDirectories(PartialRoot))
        {
            var name = Path.GetFileName(dir);
            if (name.StartsWith(TrashPrefix, StringComparison.Ordinal)
                && long.TryParse(name.AsSpan(TrashPrefix.Length, Math.Max(0, name.IndexOf('-', TrashPrefix.Length) - TrashPrefix.Length)), out var ticks)
                && ticks < cutoff)
            {
                TryDeleteDirectory(dir);
            }
        }
    }

    private static IEnumerable<string> SafeDirectories(string directory)
    {
        try
        {
            return Directory.Exists(directory) ? Directory.GetDirectories(directory) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static void TryDeleteDirectory(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for CollectTrash: the model is already out of the store.
        }
    }

    private static void TryDeleteEmptyDirectory(string directory)
    {
        try
        {
            if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
            {
                Directory.Delete(directory);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An org folder that stays is harmless.
        }
    }

    private static string ExpandHome(string path)
    {
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal) || path.StartsWith("~\\", StringComparison.Ordinal))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return string.IsNullOrEmpty(home) ? path : Path.Join(home, path.AsSpan(1).TrimStart("/\\"));
        }

        return path;
    }
}
