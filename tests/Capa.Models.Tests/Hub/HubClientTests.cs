using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Capa.Models;
using Capa.Models.Hub;
using Capa.Models.Store;
using Microsoft.Extensions.Time.Testing;

namespace Capa.Models.Tests.Hub;

public sealed class HubClientTests : IAsyncLifetime
{
    private const string RepoId = "onnx-community/Tiny-Chat";
    private const string Commit = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";

    private readonly FakeHub _hub = new();
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-hub-tests", Guid.NewGuid().ToString("N"));
    private FakeRepo _repo = null!;

    private ModelStore Store => new(_root);

    public Task InitializeAsync()
    {
        _repo = _hub.AddRepo(RepoId, Commit);
        AddChatRepoFiles(_repo);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    private static void AddChatRepoFiles(FakeRepo repo)
    {
        repo.Files["config.json"] = new(Text("""{"architectures":["Qwen2ForCausalLM"],"model_type":"qwen2","vocab_size":100}"""));
        repo.Files["generation_config.json"] = new(Text("""{"eos_token_id":2}"""));
        repo.Files["tokenizer.json"] = new(Text("""{"model":{"type":"BPE","vocab":{},"merges":[]}}"""));
        repo.Files["tokenizer_config.json"] = new(Text("""{"chat_template":"{{ messages }}","eos_token":"</s>"}"""));
        repo.Files["special_tokens_map.json"] = new(Text("{}"));
        repo.Files["merges.txt"] = new(Text("#version: 0.2\n"));
        repo.Files["README.md"] = new(Text("# Tiny chat\n"));
        repo.Files[".gitattributes"] = new(Text("*.onnx filter=lfs\n"));
        repo.Files["model.safetensors"] = new(Bytes(2048, 1), Lfs: true);
        repo.Files["pytorch_model.bin"] = new(Bytes(2048, 2), Lfs: true);
        repo.Files["onnx/model.onnx"] = new(Bytes(4096, 3), Lfs: true);
        repo.Files["onnx/model.onnx_data"] = new(Bytes(8192, 4), Lfs: true);
        repo.Files["onnx/model_fp16.onnx"] = new(Bytes(4096, 5), Lfs: true);
        repo.Files["onnx/model_quantized.onnx"] = new(Bytes(4096, 6), Lfs: true);
        repo.Files["onnx/model_q4.onnx"] = new(Bytes(300_000, 7), Lfs: true);
        repo.Files["onnx/model_q4.onnx_data"] = new(Bytes(50_000, 8), Lfs: true);
        repo.Files["onnx/model_q4f16.onnx"] = new(Bytes(4096, 9), Lfs: true);
    }

    private static readonly string[] ExpectedQ4Files =
    [
        "config.json", "generation_config.json", "merges.txt", "onnx/model_q4.onnx", "onnx/model_q4.onnx_data",
        "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json",
    ];

    private HubClient Client(string? token = null, int maxRetries = 3) => new(new HubClientOptions
    {
        Endpoint = _hub.Endpoint,
        Token = token,
        MaxRetries = maxRetries,
        RetryDelay = TimeSpan.Zero,
        ResponseTimeout = TimeSpan.FromSeconds(20),
        ReadTimeout = TimeSpan.FromSeconds(20),
    });

    private static List<string> FilesUnder(string directory) =>
        [.. Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(directory, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)];

    private void AssertNoModelAndNoHalfFolder()
    {
        Assert.Empty(Store.List());
        Assert.Null(Store.Find(RepoId));
        Assert.False(Directory.Exists(Store.PathFor(RepoId)));
    }

    [Fact(Timeout = 30_000)]
    public async Task The_manifest_is_dated_by_the_clients_clock()
    {
        var pulledAt = new DateTimeOffset(2031, 9, 10, 11, 12, 13, TimeSpan.Zero);
        using var client = new HubClient(new HubClientOptions
        {
            Endpoint = _hub.Endpoint,
            RetryDelay = TimeSpan.Zero,
            TimeProvider = new FakeTimeProvider(pulledAt),
        });

        var model = await client.PullAsync(RepoId, null, ModelVariant.Q4, Store, progress: null);

        Assert.Equal(pulledAt, model.Manifest!.PulledAt);
        Assert.Equal(pulledAt, Store.Find(RepoId)!.Manifest!.PulledAt);
    }

    [Fact(Timeout = 30_000)]
    public async Task Pull_downloads_only_config_tokenizer_and_variant_files_and_the_store_lists_it()
    {
        using var client = Client();
        var reports = new List<PullProgress>();

        var model = await client.PullAsync(RepoId, null, ModelVariant.Q4, Store, new SyncProgress(reports.Add));

        Assert.Equal(RepoId, model.Id);
        Assert.Equal(Store.PathFor(RepoId), model.Directory);
        Assert.Equal(ExpectedQ4Files.Append(ModelManifest.FileName).Order(StringComparer.Ordinal), FilesUnder(model.Directory));
        foreach (var path in ExpectedQ4Files)
        {
            Assert.Equal(_repo.Files[path].Content, await File.ReadAllBytesAsync(Path.Combine(model.Directory, path)));
        }

        var manifest = model.Manifest!;
        Assert.Equal(RepoId, manifest.Id);
        Assert.Equal("main", manifest.Revision);
        Assert.Equal(Commit, manifest.Commit);
        Assert.Equal(ModelVariant.Q4, manifest.Variant);
        Assert.Equal(_hub.Endpoint, manifest.Endpoint);
        Assert.Equal(ExpectedQ4Files, manifest.Files.Select(f => f.Path).Order(StringComparer.Ordinal));
        foreach (var entry in manifest.Files)
        {
            Assert.Equal(_repo.Files[entry.Path].Content.Length, entry.Size);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(_repo.Files[entry.Path].Content)), entry.Sha256);
        }

        var manifestJson = await File.ReadAllTextAsync(Path.Combine(model.Directory, ModelManifest.FileName));
        using (var doc = JsonDocument.Parse(manifestJson))
        {
            Assert.Equal("q4", doc.RootElement.GetProperty("variant").GetString());
            Assert.Equal(Commit, doc.RootElement.GetProperty("commit").GetString());
        }

        var listed = Assert.Single(Store.List());
        Assert.Equal(RepoId, listed.Id);
        Assert.Equal(ModelVariant.Q4, listed.Variant);
        Assert.Equal("main", listed.Revision);
        Assert.Contains(ModelCapabilities.Chat, listed.Capabilities);
        Assert.Equal(FilesUnder(model.Directory).Sum(f => new FileInfo(Path.Combine(model.Directory, f)).Length), listed.SizeBytes);

        // The file list was asked with blobs=true; files came from the resolved commit; nothing else was fetched.
        var requests = _hub.Requests.ToList();
        Assert.Contains(requests, r => r.Target == $"/api/models/{RepoId}/revision/main?blobs=true");
        var fetched = requests.Where(r => r.Path.Contains("/resolve/", StringComparison.Ordinal)).Select(r => r.Path).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(ExpectedQ4Files.Select(f => $"/{RepoId}/resolve/{Commit}/{f}").Order(StringComparer.Ordinal), fetched);
        Assert.All(requests, r => Assert.Null(r.Header("Authorization")));

        // Progress ends with every byte counted and an install step; the download folder is gone.
        var total = ExpectedQ4Files.Sum(f => (long)_repo.Files[f].Content.Length);
        Assert.Equal(PullStage.Installing, reports[^1].Stage);
        Assert.Equal(total, reports[^1].BytesDone);
        Assert.Equal(total, reports[^1].TotalBytes);
        Assert.Equal(ExpectedQ4Files.Length, reports.Count(r => r.Stage == PullStage.FileCompleted));
        Assert.False(Directory.Exists(Store.PartialPathFor(RepoId)));
    }

    [Fact(Timeout = 30_000)]
    public async Task Pull_of_int8_takes_the_quantized_files_and_revision_is_kept()
    {
        using var client = Client();

        var model = await client.PullAsync(RepoId, "v1.0", ModelVariant.Int8, Store);

        Assert.Contains("onnx/model_quantized.onnx", FilesUnder(model.Directory));
        Assert.DoesNotContain(FilesUnder(model.Directory), f => f.Contains("q4", StringComparison.Ordinal));
        Assert.Equal("v1.0", model.Revision);
        Assert.Contains(_hub.Requests, r => r.Target == $"/api/models/{RepoId}/revision/v1.0?blobs=true");
    }

    [Fact(Timeout = 30_000)]
    public async Task Pull_resumes_with_a_range_request_after_the_connection_is_cut()
    {
        const int cut = 100_000;
        var first = true;
        _hub.Intercept = request =>
        {
            if (request.Path.EndsWith("/onnx/model_q4.onnx", StringComparison.Ordinal) && first)
            {
                first = false;
                return FakeHub.FileResponse(_repo.Files["onnx/model_q4.onnx"].Content, null) with { CutAfterBytes = cut };
            }

            return null;
        };
        using var client = Client();

        var model = await client.PullAsync(RepoId, null, ModelVariant.Q4, Store);

        var requests = _hub.FileRequests("onnx/model_q4.onnx").ToList();
        Assert.Equal(2, requests.Count);
        Assert.Null(requests[0].Header("Range"));
        Assert.Equal($"bytes={cut}-", requests[1].Header("Range"));
        Assert.Equal(_repo.Files["onnx/model_q4.onnx"].Content, await File.ReadAllBytesAsync(Path.Combine(model.Directory, "onnx", "model_q4.onnx")));
    }

    [Fact(Timeout = 30_000)]
    public async Task Pull_restarts_the_file_when_the_server_ignores_the_range()
    {
        var first = true;
        _hub.Intercept = request =>
        {
            if (request.Path.EndsWith("/onnx/model_q4.onnx", StringComparison.Ordinal) && first)
            {
                first = false;
                return FakeHub.FileResponse(_repo.Files["onnx/model_q4.onnx"].Content, null) with { CutAfterBytes = 70_000 };
            }

            return null;
        };
        _hub.IgnoreRange = true;
        using var client = Client();

        var model = await client.PullAsync(RepoId, null, ModelVariant.Q4, Store);

        var requests = _hub.FileRequests("onnx/model_q4.onnx").ToList();
        Assert.Equal("bytes=70000-", requests[1].Header("Range"));
        Assert.Equal(_repo.Files["onnx/model_q4.onnx"].Content, await File.ReadAllBytesAsync(Path.Combine(model.Directory, "onnx", "model_q4.onnx")));
        Assert.Equal(_repo.Files["onnx/model_q4.onnx"].Sha256, model.Manifest!.Files.Single(f => f.Path == "onnx/model_q4.onnx").Sha256);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_range_answer_from_another_offset_is_discarded_and_the_file_started_over()
    {
        var q4 = _repo.Files["onnx/model_q4.onnx"].Content;
        var calls = 0;
        _hub.Intercept = request =>
        {
            if (!request.Path.EndsWith("/onnx/model_q4.onnx", StringComparison.Ordinal))
            {
                return null;
            }

            return Interlocked.Increment(ref calls) switch
            {
                1 => FakeHub.FileResponse(q4, null) with { CutAfterBytes = 50_000 },
                // Claims to resume but starts at byte 10: splicing it would corrupt the file.
                2 => FakeHub.FileResponse(q4, "bytes=10-"),
                _ => null,
            };
        };
        using var client = Client();

        var model = await client.PullAsync(RepoId, null, ModelVariant.Q4, Store);

        var requests = _hub.FileRequests("onnx/model_q4.onnx").ToList();
        Assert.Equal(3, requests.Count);
        Assert.Equal("bytes=50000-", requests[1].Header("Range"));
        Assert.Null(requests[2].Header("Range"));
        Assert.Equal(q4, await File.ReadAllBytesAsync(Path.Combine(model.Directory, "onnx", "model_q4.onnx")));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_server_error_on_the_file_list_is_retried()
    {
        var failures = 0;
        _hub.Intercept = request => request.Path.StartsWith("/api/", StringComparison.Ordinal) && Interlocked.Increment(ref failures) == 1
            ? FakeResponse.Json(500, """{"error":"oops"}""")
            : null;
        using var client = Client();

        await client.PullAsync(RepoId, null, ModelVariant.Q4, Store);

        Assert.Equal(2, _hub.Requests.Count(r => r.Path.StartsWith("/api/", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 30_000)]
    public async Task An_interruption_beyond_the_retries_fails_clearly_and_the_next_pull_resumes()
    {
        _hub.Intercept = request => request.Path.EndsWith("/onnx/model_q4.onnx", StringComparison.Ordinal) && request.Header("Range") is null
            ? FakeHub.FileResponse(_repo.Files["onnx/model_q4.onnx"].Content, null) with { CutAfterBytes = 120_000 }
            : null;
        using (var failing = Client(maxRetries: 0))
        {
            var error = await Assert.ThrowsAsync<HubException>(() => failing.PullAsync(RepoId, null, ModelVariant.Q4, Store));
            Assert.Equal(HubErrorKind.Interrupted, error.Kind);
            Assert.Contains("onnx/model_q4.onnx", error.Message, StringComparison.Ordinal);
            Assert.Contains("run the same pull again to resume", error.Message, StringComparison.Ordinal);
        }

        AssertNoModelAndNoHalfFolder();
        using var client = Client();
        var model = await client.PullAsync(RepoId, null, ModelVariant.Q4, Store);

        Assert.Equal("bytes=120000-", _hub.FileRequests("onnx/model_q4.onnx").Last().Header("Range"));
        Assert.Equal(_repo.Files["onnx/model_q4.onnx"].Content, await File.ReadAllBytesAsync(Path.Combine(model.Directory, "onnx", "model_q4.onnx")));
        // Files completed by the first run are not fetched again.
        Assert.Single(_hub.FileRequests("config.json"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Cancelling_keeps_the_partial_download_for_the_next_pull()
    {
        const int sent = 90_000;
        var q4 = _repo.Files["onnx/model_q4.onnx"].Content;
        _hub.Intercept = request => request.Path.EndsWith("/onnx/model_q4.onnx", StringComparison.Ordinal) && request.Header("Range") is null
            ? FakeHub.FileResponse(q4, null) with { StallAfterBytes = sent }
            : null;
        using var cts = new CancellationTokenSource();
        using var client = Client();
        var pull = client.PullAsync(RepoId, null, ModelVariant.Q4, Store, null, cts.Token);

        var part = Path.Combine(Store.PartialPathFor(RepoId), "onnx", "model_q4.onnx.capa-part");
        await WaitUntilAsync(() => File.Exists(part) && new FileInfo(part).Length == sent);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pull);
        AssertNoModelAndNoHalfFolder();
        Assert.Equal(sent, new FileInfo(part).Length);

        var model = await client.PullAsync(RepoId, null, ModelVariant.Q4, Store);

        Assert.Equal($"bytes={sent}-", _hub.FileRequests("onnx/model_q4.onnx").Last().Header("Range"));
        Assert.Equal(q4, await File.ReadAllBytesAsync(Path.Combine(model.Directory, "onnx", "model_q4.onnx")));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_stalled_connection_is_abandoned_after_the_read_timeout_and_resumed()
    {
        const int sent = 64_000;
        var q4 = _repo.Files["onnx/model_q4.onnx"].Content;
        _hub.Intercept = request => request.Path.EndsWith("/onnx/model_q4.onnx", StringComparison.Ordinal) && request.Header("Range") is null
            ? FakeHub.FileResponse(q4, null) with { StallAfterBytes = sent }
            : null;
        using var client = new HubClient(new HubClientOptions
        {
            Endpoint = _hub.Endpoint,
            RetryDelay = TimeSpan.Zero,
            ReadTimeout = TimeSpan.FromMilliseconds(300),
        });

        var model = await client.PullAsync(RepoId, null, ModelVariant.Q4, Store);

        Assert.Equal($"bytes={sent}-", _hub.FileRequests("onnx/model_q4.onnx").Last().Header("Range"));
        Assert.Equal(q4, await File.ReadAllBytesAsync(Path.Combine(model.Directory, "onnx", "model_q4.onnx")));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }

    [Fact(Timeout = 30_000)]
    public async Task A_checksum_mismatch_is_a_clear_error_and_leaves_no_model_and_no_damaged_file()
    {
        _repo.Files["onnx/model_q4.onnx"] = _repo.Files["onnx/model_q4.onnx"] with { AnnouncedSha256 = new string('0', 64) };
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync(RepoId, null, ModelVariant.Q4, Store));

        Assert.Equal(HubErrorKind.ChecksumMismatch, error.Kind);
        Assert.Contains("Checksum mismatch for 'onnx/model_q4.onnx'", error.Message, StringComparison.Ordinal);
        Assert.Contains(new string('0', 64), error.Message, StringComparison.Ordinal);
        AssertNoModelAndNoHalfFolder();
        var partial = Store.PartialPathFor(RepoId);
        Assert.False(File.Exists(Path.Combine(partial, "onnx", "model_q4.onnx")));
        Assert.False(File.Exists(Path.Combine(partial, "onnx", "model_q4.onnx.capa-part")));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_repository_that_does_not_exist_is_named_with_the_endpoint()
    {
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync("nobody/nothing", null, ModelVariant.Q4, Store));

        Assert.Equal(HubErrorKind.RepositoryNotFound, error.Kind);
        Assert.Equal(404, error.StatusCode);
        Assert.StartsWith($"Repository 'nobody/nothing' was not found on {_hub.Endpoint}.", error.Message, StringComparison.Ordinal);
        Assert.Contains("HF_TOKEN", error.Message, StringComparison.Ordinal);
        Assert.Empty(Store.List());
    }

    [Fact(Timeout = 30_000)]
    public async Task A_404_without_an_error_code_on_the_file_list_means_an_unknown_repository()
    {
        _hub.Intercept = _ => FakeResponse.Json(404, """{"error":"Not Found"}""");
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync(RepoId, null, ModelVariant.Q4, Store));

        Assert.Equal(HubErrorKind.RepositoryNotFound, error.Kind);
        Assert.Contains($"Repository '{RepoId}' was not found on {_hub.Endpoint}", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_gated_repository_without_a_token_asks_for_HF_TOKEN_and_the_licence()
    {
        _hub.Intercept = request => request.Path.Contains("/resolve/", StringComparison.Ordinal)
            ? FakeResponse.Json(401, """{"error":"Access to model onnx-community/Tiny-Chat is restricted."}""", ("X-Error-Code", "GatedRepo"))
            : null;
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync(RepoId, null, ModelVariant.Q4, Store));

        Assert.Equal(HubErrorKind.AccessDenied, error.Kind);
        Assert.Equal(401, error.StatusCode);
        Assert.Contains("set HF_TOKEN", error.Message, StringComparison.Ordinal);
        Assert.Contains($"accept the model's licence at {_hub.Endpoint}/{RepoId}", error.Message, StringComparison.Ordinal);
        AssertNoModelAndNoHalfFolder();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_refused_token_is_sent_as_bearer_and_the_error_says_the_token_was_refused()
    {
        _hub.Intercept = _ => FakeResponse.Json(401, """{"error":"Invalid credentials in Authorization header"}""");
        using var client = Client(token: "hf_secret");

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync(RepoId, null, ModelVariant.Q4, Store));

        Assert.Equal(HubErrorKind.AccessDenied, error.Kind);
        Assert.Contains("with the HF_TOKEN given", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hf_secret", error.Message, StringComparison.Ordinal);
        Assert.All(_hub.Requests, r => Assert.Equal("Bearer hf_secret", r.Header("Authorization")));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_403_on_a_file_is_access_denied()
    {
        _hub.Intercept = request => request.Path.EndsWith("/onnx/model_q4.onnx", StringComparison.Ordinal)
            ? FakeResponse.Json(403, """{"error":"Forbidden"}""")
            : null;
        using var client = Client(token: "hf_x");

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync(RepoId, null, ModelVariant.Q4, Store));

        Assert.Equal(HubErrorKind.AccessDenied, error.Kind);
        Assert.Equal(403, error.StatusCode);
        AssertNoModelAndNoHalfFolder();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_missing_revision_is_named()
    {
        _hub.Intercept = request => request.Path.StartsWith("/api/", StringComparison.Ordinal)
            ? FakeResponse.Json(404, """{"error":"Invalid rev id: nope"}""", ("X-Error-Code", "RevisionNotFound"))
            : null;
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync(RepoId, "nope", ModelVariant.Q4, Store));

        Assert.Equal(HubErrorKind.RevisionNotFound, error.Kind);
        Assert.Contains("Revision 'nope' was not found", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_missing_variant_lists_the_variants_the_repository_has()
    {
        var repo = _hub.AddRepo("Xenova/only-fp32");
        repo.Files["config.json"] = new(Text("{}"));
        repo.Files["onnx/model.onnx"] = new(Bytes(100, 1), Lfs: true);
        repo.Files["onnx/model_q4f16.onnx"] = new(Bytes(100, 2), Lfs: true);
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync("Xenova/only-fp32", null, ModelVariant.Q4, Store));

        Assert.Equal(HubErrorKind.VariantNotFound, error.Kind);
        Assert.Contains("has no q4 ONNX files", error.Message, StringComparison.Ordinal);
        Assert.Contains("Variants it has: fp32, q4f16 (not supported by Capa)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_hub.Requests, r => r.Path.Contains("/resolve/", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public async Task Server_errors_are_retried()
    {
        var failures = 0;
        _hub.Intercept = request =>
            request.Path.EndsWith("/tokenizer.json", StringComparison.Ordinal) && Interlocked.Increment(ref failures) <= 2
                ? FakeResponse.Json(503, """{"error":"busy"}""")
                : null;
        using var client = Client(maxRetries: 3);

        var model = await client.PullAsync(RepoId, null, ModelVariant.Q4, Store);

        Assert.Equal(3, _hub.FileRequests("tokenizer.json").Count());
        Assert.True(File.Exists(Path.Combine(model.Directory, "tokenizer.json")));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_connection_that_keeps_dropping_still_finishes_while_each_attempt_brings_bytes()
    {
        var q4 = _repo.Files["onnx/model_q4.onnx"].Content;
        _hub.Intercept = request => request.Path.EndsWith("/onnx/model_q4.onnx", StringComparison.Ordinal)
            ? FakeHub.FileResponse(q4, request.Header("Range")) with { CutAfterBytes = 40_000 }
            : null;
        using var client = Client(maxRetries: 1);

        var model = await client.PullAsync(RepoId, null, ModelVariant.Q4, Store);

        Assert.Equal(8, _hub.FileRequests("onnx/model_q4.onnx").Count());
        Assert.Equal(q4, await File.ReadAllBytesAsync(Path.Combine(model.Directory, "onnx", "model_q4.onnx")));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_server_that_keeps_failing_is_given_up_after_the_retries()
    {
        _hub.Intercept = request => request.Path.EndsWith("/onnx/model_q4.onnx", StringComparison.Ordinal)
            ? FakeResponse.Json(503, """{"error":"overloaded"}""")
            : null;
        using var client = Client(maxRetries: 2);

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync(RepoId, null, ModelVariant.Q4, Store));

        Assert.Equal(HubErrorKind.ServerError, error.Kind);
        Assert.Equal(503, error.StatusCode);
        Assert.Contains("3 attempts in a row", error.Message, StringComparison.Ordinal);
        Assert.Contains("overloaded", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, _hub.FileRequests("onnx/model_q4.onnx").Count());
        AssertNoModelAndNoHalfFolder();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_pull_of_a_model_already_there_replaces_it_whole_and_a_failed_one_keeps_the_old()
    {
        using var client = Client();
        var first = await client.PullAsync(RepoId, null, ModelVariant.Q4, Store);
        Assert.Equal(Commit, first.Commit);

        // A failed re-pull (damaged download) leaves the installed model exactly as it was.
        const string newCommit = "ffffffffffffffffffffffffffffffffffffffff";
        _repo.Sha = newCommit;
        _repo.Files["config.json"] = new(Text("""{"architectures":["LlamaForCausalLM"],"model_type":"llama"}"""));
        _repo.Files["onnx/model_q4.onnx"] = new(Bytes(1000, 42), Lfs: true) { AnnouncedSha256 = new string('1', 64) };
        await Assert.ThrowsAsync<HubException>(() => client.PullAsync(RepoId, null, ModelVariant.Q4, Store));
        var kept = Store.Find(RepoId)!;
        Assert.Equal(Commit, kept.Commit);
        Assert.Contains("Qwen2ForCausalLM", await File.ReadAllTextAsync(Path.Combine(kept.Directory, "config.json")), StringComparison.Ordinal);

        // A good re-pull, now for fp32, replaces every file: nothing of the q4 pull is left.
        _repo.Files["onnx/model_q4.onnx"] = new(Bytes(1000, 42), Lfs: true);
        var second = await client.PullAsync(RepoId, null, ModelVariant.Fp32, Store);

        Assert.Equal(newCommit, second.Commit);
        Assert.Equal(ModelVariant.Fp32, second.Variant);
        var files = FilesUnder(second.Directory);
        Assert.Contains("onnx/model.onnx", files);
        Assert.Contains("onnx/model.onnx_data", files);
        Assert.DoesNotContain("onnx/model_q4.onnx", files);
        Assert.Contains("LlamaForCausalLM", await File.ReadAllTextAsync(Path.Combine(second.Directory, "config.json")), StringComparison.Ordinal);
        Assert.Single(Store.List());
        Assert.Empty(Directory.GetDirectories(Store.PartialRoot));
    }

    [Fact(Timeout = 30_000)]
    public async Task Not_enough_disk_space_is_reported_before_downloading_with_the_size_needed()
    {
        using var client = new HubClient(new HubClientOptions { Endpoint = _hub.Endpoint, FreeSpaceProbe = _ => 1000 });

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync(RepoId, null, ModelVariant.Q4, Store));

        Assert.Equal(HubErrorKind.DiskFull, error.Kind);
        Assert.StartsWith("Not enough disk space", error.Message, StringComparison.Ordinal);
        var needed = ExpectedQ4Files.Sum(f => (long)_repo.Files[f].Content.Length);
        Assert.Contains(ByteSize.Format(needed), error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_hub.Requests, r => r.Path.Contains("/resolve/", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public async Task An_invalid_id_is_refused_before_any_request()
    {
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync("../etc", null, ModelVariant.Q4, Store));

        Assert.Equal(HubErrorKind.InvalidReference, error.Kind);
        Assert.Empty(_hub.Requests);
    }

    [Fact(Timeout = 30_000)]
    public async Task An_unreachable_hub_is_an_interruption_naming_the_endpoint()
    {
        // A port that was free a moment ago: connections are refused.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var endpoint = $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}";
        listener.Stop();
        using var client = new HubClient(new HubClientOptions { Endpoint = endpoint, MaxRetries = 1, RetryDelay = TimeSpan.Zero });

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync(RepoId, null, ModelVariant.Q4, Store));

        Assert.Equal(HubErrorKind.Interrupted, error.Kind);
        Assert.Contains($"Could not reach {endpoint}", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_hub_that_gives_no_sizes_still_yields_a_complete_manifest()
    {
        _hub.NoBlobs = true;
        using var client = Client();

        var model = await client.PullAsync(RepoId, null, ModelVariant.Q4, Store);

        Assert.Equal(ExpectedQ4Files, model.Manifest!.Files.Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.All(model.Manifest.Files, f => Assert.Equal(_repo.Files[f.Path].Content.Length, f.Size));
    }

    [Fact(Timeout = 30_000)]
    public async Task The_model_is_stored_under_the_hub_spelling_of_its_id()
    {
        using var client = Client();

        var model = await client.PullAsync("ONNX-Community/tiny-chat", null, ModelVariant.Q4, Store);

        Assert.Equal(RepoId, model.Id);
        Assert.Equal(Store.PathFor(RepoId), model.Directory);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_second_pull_of_the_same_model_at_the_same_time_is_refused()
    {
        using var held = PullLock.TryAcquire(Store, RepoId);
        Assert.NotNull(held);
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync(RepoId, null, ModelVariant.Q4, Store));

        Assert.Equal(HubErrorKind.Busy, error.Kind);
        Assert.Contains("Another pull", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task An_unresolvable_host_fails_at_once_without_retries_and_says_so()
    {
        // What SocketsHttpHandler throws when DNS has no answer (offline, or a mistyped HF_ENDPOINT).
        var handler = new CountingHandler(_ => throw new HttpRequestException(HttpRequestError.NameResolutionError, "Name or service not known"));
        using var client = new HubClient(new HubClientOptions { Endpoint = "https://hub.example.invalid", Handler = handler, MaxRetries = 5, RetryDelay = TimeSpan.FromSeconds(10) });

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync(RepoId, null, ModelVariant.Q4, Store));

        Assert.Equal(1, handler.Requests);
        Assert.Equal(HubErrorKind.HostNotFound, error.Kind);
        Assert.Contains("https://hub.example.invalid", error.Message, StringComparison.Ordinal);
        Assert.Contains("could not be resolved", error.Message, StringComparison.Ordinal);
        Assert.Contains("HF_ENDPOINT", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Store.PartialRoot));
    }

    [Fact(Timeout = 30_000)]
    public async Task Progress_starts_before_the_first_request_and_retries_are_reported()
    {
        var reports = new List<PullProgress>();
        var progress = new SyncProgress(reports.Add);
        var handler = new CountingHandler(_ =>
        {
            // Nothing may reach the hub before the user has been told that the pull started.
            Assert.Contains(reports, r => r.Stage == PullStage.Resolving);
            throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused");
        });
        using var client = new HubClient(new HubClientOptions { Endpoint = "http://127.0.0.1:9", Handler = handler, MaxRetries = 2, RetryDelay = TimeSpan.Zero });

        var error = await Assert.ThrowsAsync<HubException>(() => client.PullAsync(RepoId, null, ModelVariant.Q4, Store, progress));

        Assert.Equal(HubErrorKind.Interrupted, error.Kind);
        Assert.Equal(3, handler.Requests);
        Assert.Equal(PullStage.Resolving, reports[0].Stage);
        var retries = reports.Where(r => r.Stage == PullStage.Retrying).ToList();
        Assert.Equal(2, retries.Count);
        Assert.All(retries, r => Assert.Contains("connection failed", r.Note, StringComparison.Ordinal));
        Assert.Equal([1, 2], retries.Select(r => r.Attempt));
    }

    [Fact]
    public void An_endpoint_that_is_not_http_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new HubClient(new HubClientOptions { Endpoint = "ftp://example.org" }));
        Assert.Contains("HF_ENDPOINT", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Answers every request with <paramref name="answer"/> (which may throw, as a failing network does) and counts them.</summary>
    private sealed class CountingHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        private int _requests;

        public int Requests => Volatile.Read(ref _requests);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            return Task.FromResult(answer(request));
        }
    }

    /// <summary>Reports on the caller's thread, in order (unlike <see cref="Progress{T}"/>).</summary>
    private sealed class SyncProgress(Action<PullProgress> report) : IProgress<PullProgress>
    {
        public void Report(PullProgress value) => report(value);
    }
}
