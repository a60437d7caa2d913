using System.Net;
using System.Net.Http.Headers;
using Capa.Models.Store;

namespace Capa.Models.Hub;

/// <summary>
/// Pulls model repositories from a Hugging Face compatible hub into a <see cref="ModelStore"/>: the file list from
/// <c>GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true</c>, the files from
/// <c>GET {endpoint}/{repo}/resolve/{commit}/{path}</c>, only the configuration, tokenizer and ONNX files of one variant.
/// </summary>
/// <remarks>
/// A pull downloads into <c>{store}/.partial/{org}--{name}/</c>, resumes there after a cut connection (HTTP Range) or a
/// later run, verifies sizes and LFS sha256s, writes a <see cref="ModelManifest"/>, and only then moves the folder into
/// the store in one rename: the store never holds half a model, and a pull of a model already there replaces it whole.
/// Cancelling leaves the downloaded bytes for the next pull of the same model to continue from.
/// </remarks>
public sealed class HubClient : IDisposable
{
    private const string StateFileName = ".capa-pull";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly Uri _endpoint;
    private readonly string _endpointText;

    /// <summary>Creates a client; <paramref name="options"/> default to <see cref="HubClientOptions.FromEnvironment()"/>.</summary>
    /// <exception cref="ArgumentException">The endpoint is not an absolute http(s) URL, or a count or time is negative.</exception>
    public HubClient(HubClientOptions? options = null)
    {
        Options = options ?? HubClientOptions.FromEnvironment();
        var endpointText = Options.Endpoint?.Trim().TrimEnd('/') ?? string.Empty;
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The hub endpoint '{Options.Endpoint}' (HF_ENDPOINT) is not an http(s) URL.", nameof(options));
        }

        if (Options.MaxRetries < 0 || Options.RetryDelay < TimeSpan.Zero || Options.ResponseTimeout <= TimeSpan.Zero || Options.ReadTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("MaxRetries and RetryDelay must not be negative; ResponseTimeout and ReadTimeout must be positive.", nameof(options));
        }

        _endpointText = endpointText;
        _endpoint = new Uri(endpointText + "/");
        if (Options.HttpClient is { } client)
        {
            _http = client;
        }
        else
        {
            var handler = Options.Handler ?? new SocketsHttpHandler
            {
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = TimeSpan.FromSeconds(30),
            };
            _http = new HttpClient(handler, disposeHandler: Options.Handler is null) { Timeout = Timeout.InfiniteTimeSpan };
            _ownsHttp = true;
        }
    }

    /// <summary>The options in use.</summary>
    public HubClientOptions Options { get; }

    /// <summary>
    /// Downloads <paramref name="repoId"/> at <paramref name="revision"/> (default <c>main</c>) with the ONNX files of
    /// <paramref name="variant"/> into <paramref name="store"/>, replacing any copy already there.
    /// </summary>
    /// <returns>The model as now in the store.</returns>
    /// <exception cref="HubException">Unknown repository or revision, access refused, no such variant, checksum mismatch,
    /// disk full, connection failing after every retry, ... with a message for the user.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; what was downloaded stays for the next pull to resume.</exception>
    public async Task<StoredModel> PullAsync(
        string repoId,
        string? revision,
        ModelVariant variant,
        ModelStore store,
        IProgress<PullProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!ModelId.IsValid(repoId, out var idError))
        {
            throw new HubException(HubErrorKind.InvalidReference, idError!);
        }

        var rev = string.IsNullOrWhiteSpace(revision) ? ModelReference.DefaultRevision : revision.Trim();
        if (!ModelReference.IsValidRevision(rev))
        {
            throw new HubException(HubErrorKind.InvalidReference, $"Invalid revision '{rev}': expected a branch, tag or commit.");
        }

        // Said before the first request, so that a slow or failing network is never silence.
        progress?.Report(PullProgress.Resolving());
        var repository = await GetRepositoryAsync(repoId, rev, progress, cancellationToken).ConfigureAwait(false);
        var files = HubFileSelector.Select(repository, variant);
        return await InstallAsync(repository, repository.Id, rev, variant, files, store, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Pulls what <paramref name="reference"/> names: a whole repository with the ONNX files of <paramref name="variant"/>,
    /// or one voice of a voice repository (which has no variants to choose from).
    /// </summary>
    /// <exception cref="HubException">See <see cref="PullAsync(string, string?, ModelVariant, ModelStore, IProgress{PullProgress}?, CancellationToken)"/>.</exception>
    public Task<StoredModel> PullAsync(
        ModelReference reference,
        ModelVariant variant,
        ModelStore store,
        IProgress<PullProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return reference.Voice is { } voice
            ? PullVoiceAsync(reference.RepoId, voice, reference.Revision, store, progress, cancellationToken)
            : PullAsync(reference.RepoId, reference.Revision, variant, store, progress, cancellationToken);
    }

    /// <summary>
    /// Downloads one Piper voice of a voice repository (<c>rhasspy/piper-voices</c>: <c>VOICE.onnx</c> and
    /// <c>VOICE.onnx.json</c>, wherever they are in it) into <paramref name="store"/> as <c>ORG/VOICE</c>, resumable and
    /// verified like a whole pull; the manifest names the repository it came from.
    /// </summary>
    /// <exception cref="HubException">The id, revision or voice is invalid or absent, or the download failed.</exception>
    public async Task<StoredModel> PullVoiceAsync(
        string repoId,
        string voice,
        string? revision,
        ModelStore store,
        IProgress<PullProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!ModelId.IsValid(repoId, out var idError))
        {
            throw new HubException(HubErrorKind.InvalidReference, idError!);
        }

        if (!ModelId.IsValidName(voice, out var voiceError))
        {
            throw new HubException(HubErrorKind.InvalidReference, voiceError!);
        }

        var rev = string.IsNullOrWhiteSpace(revision) ? ModelReference.DefaultRevision : revision.Trim();
        if (!ModelReference.IsValidRevision(rev))
        {
            throw new HubException(HubErrorKind.InvalidReference, $"Invalid revision '{rev}': expected a branch, tag or commit.");
        }

        progress?.Report(PullProgress.Resolving());
        var repository = await GetRepositoryAsync(repoId, rev, progress, cancellationToken).ConfigureAwait(false);
        var files = HubFileSelector.SelectVoice(repository, voice);
        var storeId = ModelId.Split(repository.Id).Org + "/" + voice;
        return await InstallAsync(repository, storeId, rev, ModelVariant.Fp32, files, store, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Downloads <paramref name="files"/> of <paramref name="repository"/> and installs them as <paramref name="id"/>.</summary>
    private async Task<StoredModel> InstallAsync(
        HubRepository repository,
        string id,
        string rev,
        ModelVariant variant,
        IReadOnlyList<HubFile> files,
        ModelStore store,
        IProgress<PullProgress>? progress,
        CancellationToken cancellationToken)
    {
        var repoId = repository.Id;
        var context = new HubRequestContext(repoId, rev, _endpointText, Options.Token is not null, null);

        try
        {
            Directory.CreateDirectory(store.PartialRoot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw HubErrors.Storage(e, ModelStore.PartialFolderName, store.Root, files.Sum(f => f.Size ?? 0));
        }

        using var pullLock = PullLock.TryAcquire(store, id)
            ?? throw new HubException(HubErrorKind.Busy, $"Another pull of '{id}' into {store.Root} is running; wait for it to finish.");

        var partial = store.PartialPathFor(id);
        var onDisk = PreparePartial(store, partial, repository.Commit ?? "revision:" + rev, files);
        CheckFreeSpace(store, partial, id, files, onDisk);

        var tracker = new PullTracker(files, onDisk, progress);
        var downloader = new HubDownloader(this, Options, store.Root);
        var entries = new List<ManifestFile>(files.Count);
        var fileRevision = repository.Commit ?? rev;
        for (var i = 0; i < files.Count; i++)
        {
            tracker.BeginFile(i);
            var file = files[i];
            entries.Add(await downloader.DownloadAsync(file, ResolveUrl(repoId, fileRevision, file.Path), partial, context with { FilePath = file.Path }, tracker, cancellationToken)
                .ConfigureAwait(false));
        }

        cancellationToken.ThrowIfCancellationRequested();
        tracker.Installing();
        var manifest = new ModelManifest
        {
            Id = id,
            Repository = repoId == id ? null : repoId,
            Revision = rev,
            Commit = repository.Commit,
            Variant = variant,
            Endpoint = _endpointText,
            PulledAt = Options.TimeProvider.GetUtcNow(),
            Files = entries,
        };

        try
        {
            manifest.Write(Path.Combine(partial, ModelManifest.FileName));
            File.Delete(Path.Combine(partial, StateFileName));
            return store.Install(id, partial);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw HubErrors.Storage(e, ModelManifest.FileName, store.Root, 0);
        }
    }

    /// <summary>The file list of <paramref name="repoId"/> at <paramref name="revision"/>, retried like downloads.</summary>
    internal async Task<HubRepository> GetRepositoryAsync(string repoId, string revision, IProgress<PullProgress>? progress, CancellationToken ct)
    {
        var context = new HubRequestContext(repoId, revision, _endpointText, Options.Token is not null, null);
        var url = new Uri(_endpoint, $"api/models/{EscapePath(repoId)}/revision/{Uri.EscapeDataString(revision)}?blobs=true");
        for (var failures = 0; ; failures++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                using var response = await SendAsync(request, context, ct).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    throw await HubErrors.FromResponseAsync(response, context, ct).ConfigureAwait(false);
                }

                byte[] body;
                try
                {
                    body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or HttpRequestException && !ct.IsCancellationRequested)
                {
                    throw new HubException(HubErrorKind.Interrupted, $"Reading the file list of '{repoId}': {HubErrors.Describe(e)}.", e);
                }

                return HubRepository.Parse(body, repoId)
                    ?? throw new HubException(HubErrorKind.InvalidResponse,
                        $"{_endpointText} answered the file list of '{repoId}' with something that is not a model description (no 'siblings'): is HF_ENDPOINT a Hugging Face hub?");
            }
            catch (HubException e) when (e.IsTransient && failures < Options.MaxRetries)
            {
                progress?.Report(PullProgress.Retrying(failures + 1, e.Message));
                await Task.Delay(RetryDelay(failures + 1), ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Sends a request (with the token, to the hub only) and waits for its headers, with <see cref="HubClientOptions.ResponseTimeout"/>.</summary>
    internal async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HubRequestContext context, CancellationToken ct)
    {
        if (Options.Token is { } token && IsHub(request.RequestUri))
        {
            // HttpClient drops this header when the hub redirects to a CDN, which is what the CDN's signed URLs expect.
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        request.Headers.UserAgent.ParseAdd("capa/1.0");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Options.ResponseTimeout);
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new HubException(HubErrorKind.Interrupted,
                $"{_endpointText} did not answer within {Options.ResponseTimeout.TotalSeconds:0.#} s ({What(context)}).", e);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.NameResolutionError)
        {
            // Offline, or a mistyped endpoint: asking again in a few seconds would only make the user wait for the same answer.
            throw new HubException(HubErrorKind.HostNotFound,
                $"Could not reach {_endpointText} ({What(context)}): {HubErrors.Describe(e)}. Check the network connection, or HF_ENDPOINT when it points to a mirror.", e);
        }
        catch (HttpRequestException e)
        {
            throw new HubException(HubErrorKind.Interrupted, $"Could not reach {_endpointText} ({What(context)}): {HubErrors.Describe(e)}.", e);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private Uri ResolveUrl(string repoId, string revision, string path) =>
        new(_endpoint, $"{EscapePath(repoId)}/resolve/{Uri.EscapeDataString(revision)}/{EscapePath(path)}");

    private bool IsHub(Uri? uri) =>
        uri is not null && Uri.Compare(uri, _endpoint, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private static string What(HubRequestContext context) =>
        context.FilePath is null ? $"file list of '{context.RepoId}'" : $"'{context.FilePath}' of '{context.RepoId}'";

    private TimeSpan RetryDelay(int failures)
    {
        var delay = Options.RetryDelay * Math.Pow(2, Math.Min(failures - 1, 10));
        return delay > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : delay;
    }

    /// <summary>
    /// Readies the download folder: a folder left by a pull of another commit is emptied (its bytes belong to other file
    /// versions), files this pull does not need are deleted, and the commit is recorded. Returns each file's bytes on disk.
    /// </summary>
    private static long[] PreparePartial(ModelStore store, string partial, string commitKey, IReadOnlyList<HubFile> files)
    {
        var statePath = Path.Combine(partial, StateFileName);
        try
        {
            if (Directory.Exists(partial))
            {
                var previous = File.Exists(statePath) ? File.ReadAllText(statePath).Trim() : null;
                if (previous != commitKey)
                {
                    Directory.Delete(partial, recursive: true);
                }
                else
                {
                    Prune(partial, files);
                }
            }

            Directory.CreateDirectory(partial);
            File.WriteAllText(statePath, commitKey);
            return [.. files.Select(f => HubDownloader.BytesOnDisk(f, partial))];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw HubErrors.Storage(e, Path.GetFileName(partial), store.Root, files.Sum(f => f.Size ?? 0));
        }
    }

    private static void Prune(string partial, IReadOnlyList<HubFile> files)
    {
        var keep = new HashSet<string>(StringComparer.Ordinal) { StateFileName };
        foreach (var file in files)
        {
            keep.Add(file.Path);
            keep.Add(file.Path + HubDownloader.PartSuffix);
        }

        foreach (var path in Directory.EnumerateFiles(partial, "*", SearchOption.AllDirectories).ToList())
        {
            if (!keep.Contains(Path.GetRelativePath(partial, path).Replace('\\', '/')))
            {
                File.Delete(path);
            }
        }

        foreach (var dir in Directory.EnumerateDirectories(partial, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).ToList())
        {
            if (!Directory.EnumerateFileSystemEntries(dir).Any())
            {
                Directory.Delete(dir);
            }
        }
    }

    private void CheckFreeSpace(ModelStore store, string partial, string id, IReadOnlyList<HubFile> files, long[] onDisk)
    {
        long needed = 0;
        for (var i = 0; i < files.Count; i++)
        {
            if (files[i].Size is { } size)
            {
                needed += Math.Max(0, size - onDisk[i]);
            }
        }

        if (needed > 0 && Options.FreeSpaceProbe(partial) is { } free && free < needed)
        {
            throw new HubException(HubErrorKind.DiskFull,
                $"Not enough disk space in {store.Root}: pulling '{id}' needs {ByteSize.Format(needed)} more and {ByteSize.Format(free)} are free. " +
                "Free some space, or choose another folder with --models-dir or CAPA_MODELS.");
        }
    }
}
