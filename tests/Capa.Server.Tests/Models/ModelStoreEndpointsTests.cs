using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Capa.Models.Hub;
using Capa.Models.Store;
using Capa.Models.Tests.Hub;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Models;

/// <summary><c>/capa/v1/models</c>: list, pull (SSE progress from the fake hub on 127.0.0.1) and remove.</summary>
public sealed class ModelStoreEndpointsTests : IAsyncLifetime
{
    private const string RepoId = "onnx-community/Tiny-Chat";
    private const string Commit = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
    private const string BigFile = "onnx/model_q4.onnx";

    private readonly FakeHub _hub = new();
    private readonly string _root = Directory.CreateTempSubdirectory("capa-model-store-").FullName;
    private FakeRepo _repo = null!;

    private string ModelsDir => Path.Combine(_root, "models");

    public Task InitializeAsync()
    {
        _repo = _hub.AddRepo(RepoId, Commit);
        _repo.Files["config.json"] = new(Text("""{"architectures":["Qwen2ForCausalLM"],"model_type":"qwen2"}"""));
        _repo.Files["tokenizer.json"] = new(Text("""{"model":{"type":"BPE","vocab":{},"merges":[]}}"""));
        _repo.Files["tokenizer_config.json"] = new(Text("""{"eos_token":"</s>"}"""));
        _repo.Files["README.md"] = new(Text("# Tiny chat\n"));
        _repo.Files["onnx/model.onnx"] = new(Bytes(4096, 3), Lfs: true);
        _repo.Files[BigFile] = new(Bytes(600_000, 7), Lfs: true);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Left for the temp cleaner.
        }
    }

    [Fact]
    public async Task Pull_streams_progress_per_file_then_the_installed_model_which_is_listed_and_removed()
    {
        await using var server = await StartAsync();

        using var response = await server.Http.PostAsync("/capa/v1/models/pull", Json($$"""{"model":"{{RepoId}}","variant":"q4"}"""));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = SseTestReader.DataOf(body);
        Assert.Equal("[DONE]", events[^1]);
        var parsed = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();

        var progress = parsed.Where(e => e.GetProperty("type").GetString() == "model.pull.progress").ToList();
        var done = progress.Select(e => e.GetProperty("bytes_done").GetInt64()).ToList();
        Assert.Equal(done.Order(), done);
        var expectedFiles = new[] { "config.json", BigFile, "tokenizer.json", "tokenizer_config.json" };
        var completedFiles = progress.Where(e => e.GetProperty("stage").GetString() == "file_completed").ToList();
        Assert.Equal(expectedFiles.Order(StringComparer.Ordinal), completedFiles.Select(e => e.GetProperty("file").GetString()!).Order(StringComparer.Ordinal));
        var big = completedFiles.Single(e => e.GetProperty("file").GetString() == BigFile);
        Assert.Equal(600_000, big.GetProperty("file_bytes_done").GetInt64());
        Assert.Equal(600_000, big.GetProperty("file_total_bytes").GetInt64());
        var total = expectedFiles.Sum(f => (long)_repo.Files[f].Content.Length);
        Assert.All(progress.Where(e => e.GetProperty("stage").GetString() != "retrying"), e => Assert.Equal(total, e.GetProperty("total_bytes").GetInt64()));
        Assert.Equal(total, progress[^1].GetProperty("bytes_done").GetInt64());
        Assert.Equal(4, progress[0].GetProperty("file_count").GetInt32());

        var completed = parsed[^1];
        Assert.Equal("model.pull.completed", completed.GetProperty("type").GetString());
        var model = completed.GetProperty("model");
        Assert.Equal(RepoId, model.GetProperty("id").GetString());
        Assert.Equal("q4", model.GetProperty("variant").GetString());
        Assert.Equal(Commit, model.GetProperty("commit").GetString());
        Assert.Equal("main", model.GetProperty("revision").GetString());
        Assert.Contains("chat", model.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        var fingerprint = model.GetProperty("fingerprint").GetString()!;
        Assert.Matches("^sha256:[0-9a-f]{64}$", fingerprint);
        Assert.Equal(new ModelStore(ModelsDir).Find(RepoId)!.Fingerprint, fingerprint);

        // The list says the same, with the size on disk (the files plus the pull's manifest).
        var listed = (await ListAsync(server)).Single();
        Assert.Equal(RepoId, listed.GetProperty("id").GetString());
        Assert.Equal(fingerprint, listed.GetProperty("fingerprint").GetString());
        Assert.True(listed.GetProperty("size_bytes").GetInt64() > total);
        Assert.Equal("capa.model", listed.GetProperty("object").GetString());

        using var removed = await server.Http.DeleteAsync("/capa/v1/models/" + RepoId);
        var removedBody = await removed.Content.ReadAsStringAsync();
        Assert.True(removed.StatusCode == HttpStatusCode.OK, removedBody);
        var deleted = JsonDocument.Parse(removedBody).RootElement;
        Assert.Equal(RepoId, deleted.GetProperty("id").GetString());
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        Assert.Empty(await ListAsync(server));
        Assert.False(Directory.Exists(Path.Combine(ModelsDir, "onnx-community", "Tiny-Chat")));

        using var again = await server.Http.DeleteAsync("/capa/v1/models/onnx-community%2FTiny-Chat");
        await ErrorAssert.IsOpenAIErrorAsync(again, HttpStatusCode.NotFound, "model_not_found");
    }

    [Theory]
    [InlineData("""{"model":"not a repo"}""", "model", "invalid_value")]
    [InlineData("""{"model":"../etc/passwd"}""", "model", "invalid_value")]
    [InlineData("""{"variant":"q4"}""", "model", "missing_required_parameter")]
    [InlineData("""{"model":42}""", "model", "invalid_type")]
    [InlineData("""{"model":"onnx-community/Tiny-Chat","variant":"q8"}""", "variant", "invalid_value")]
    [InlineData("""{"model":"onnx-community/Tiny-Chat","revision":"a..b"}""", "revision", "invalid_value")]
    [InlineData("""{"model":"onnx-community/Tiny-Chat@main","revision":"v1"}""", "revision", "invalid_value")]
    [InlineData("""{"model":"onnx-community/Tiny-Chat","stream":true}""", "stream", "unknown_parameter")]
    public async Task Bad_pull_requests_get_400_naming_the_parameter_and_reach_no_hub(string body, string param, string code)
    {
        await using var server = await StartAsync();

        using var response = await server.Http.PostAsync("/capa/v1/models/pull", Json(body));

        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, code, param);
        Assert.Empty(_hub.Requests);
    }

    [Fact]
    public async Task Malformed_json_and_other_media_types_are_refused()
    {
        await using var server = await StartAsync();

        using var malformed = await server.Http.PostAsync("/capa/v1/models/pull", Json("""{"model":"""));
        await ErrorAssert.IsOpenAIErrorAsync(malformed, HttpStatusCode.BadRequest);
        using var text = await server.Http.PostAsync("/capa/v1/models/pull", new StringContent(RepoId, Encoding.UTF8, "text/plain"));
        await ErrorAssert.IsOpenAIErrorAsync(text, HttpStatusCode.UnsupportedMediaType);
        using var badId = await server.Http.DeleteAsync("/capa/v1/models/a%20b/c");
        await ErrorAssert.IsOpenAIErrorAsync(badId, HttpStatusCode.BadRequest, "invalid_model_id", "model");
    }

    [Fact]
    public async Task What_the_hub_refuses_before_any_download_is_an_ordinary_error_response()
    {
        await using var server = await StartAsync();

        using var unknown = await server.Http.PostAsync("/capa/v1/models/pull", Json("""{"model":"onnx-community/No-Such-Model"}"""));
        await ErrorAssert.IsOpenAIErrorAsync(unknown, HttpStatusCode.NotFound, "model_not_found", "model");

        using var variant = await server.Http.PostAsync("/capa/v1/models/pull", Json($$"""{"model":"{{RepoId}}","variant":"fp16"}"""));
        var error = await ErrorAssert.IsOpenAIErrorAsync(variant, HttpStatusCode.BadRequest, "variant_not_found", "variant");
        Assert.Contains("fp16", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        Assert.Empty(await ListAsync(server));
    }

    [Fact]
    public async Task A_failure_after_the_stream_started_ends_it_with_an_error_event_in_OpenAIs_shape()
    {
        _hub.Intercept = request => request.Path.EndsWith("/" + BigFile, StringComparison.Ordinal)
            ? FakeHub.FileResponse(_repo.Files[BigFile].Content, null) with { CutAfterBytes = 1000 }
            : null;
        await using var server = await StartAsync();

        using var response = await server.Http.PostAsync("/capa/v1/models/pull", Json($$"""{"model":"{{RepoId}}"}"""));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("event: error\n", body, StringComparison.Ordinal);
        var last = SseTestReader.DataOf(body)[^1];
        var error = ErrorAssert.Shape(last);
        Assert.Equal("hub_unavailable", error.GetProperty("code").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        Assert.Empty(await ListAsync(server));
    }

    [Fact]
    public async Task Disconnecting_mid_download_stops_it_and_leaves_nothing_in_the_store()
    {
        // The big file sends part of its bytes, then nothing until the client hangs up.
        _hub.Intercept = request => request.Path.EndsWith("/" + BigFile, StringComparison.Ordinal)
            ? FakeHub.FileResponse(_repo.Files[BigFile].Content, null) with { StallAfterBytes = 100_000 }
            : null;
        await using var server = await StartAsync();
        var partial = new ModelStore(ModelsDir).PartialPathFor(RepoId);
        var part = Path.Combine(partial, "onnx", "model_q4.onnx" + ".capa-part");

        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/capa/v1/models/pull") { Content = Json($$"""{"model":"{{RepoId}}"}""") };
            using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
            var line = await reader.ReadLineAsync(cts.Token);
            Assert.StartsWith("event: model.pull.progress", line, StringComparison.Ordinal);

            // Bounded wait until the stalled file has bytes on disk: the download is under way.
            for (var i = 0; i < 300 && !(File.Exists(part) && new FileInfo(part).Length >= 100_000); i++)
            {
                await Task.Delay(50, cts.Token);
            }

            Assert.True(File.Exists(part) && new FileInfo(part).Length >= 100_000, "the download never reached the stalled file");
        }

        // Leaving the using block closed the connection; the server cancels, stops the download and deletes its bytes.
        for (var i = 0; i < 200 && Directory.Exists(partial); i++)
        {
            await Task.Delay(50);
        }

        Assert.False(Directory.Exists(partial), "the download folder was left behind");
        Assert.Empty(await ListAsync(server));
        Assert.Single(_hub.FileRequests(BigFile));

        // The server keeps serving, and a new pull of the same model starts afresh and completes.
        _hub.Intercept = null;
        using var retry = await server.Http.PostAsync("/capa/v1/models/pull", Json($$"""{"model":"{{RepoId}}"}"""));
        Assert.Contains("model.pull.completed", await retry.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(_hub.FileRequests(BigFile).Last().Header("range"));
        Assert.Equal(RepoId, (await ListAsync(server)).Single().GetProperty("id").GetString());
    }

    [Fact]
    public async Task Every_route_needs_the_api_key_when_the_server_has_one()
    {
        await using var server = await StartAsync(apiKeys: ["sk-store-key"]);

        using var list = await server.Http.GetAsync("/capa/v1/models");
        await ErrorAssert.IsOpenAIErrorAsync(list, HttpStatusCode.Unauthorized);
        using var pull = await server.Http.PostAsync("/capa/v1/models/pull", Json($$"""{"model":"{{RepoId}}"}"""));
        await ErrorAssert.IsOpenAIErrorAsync(pull, HttpStatusCode.Unauthorized);
        using var remove = await server.Http.DeleteAsync("/capa/v1/models/" + RepoId);
        await ErrorAssert.IsOpenAIErrorAsync(remove, HttpStatusCode.Unauthorized);
        Assert.Empty(_hub.Requests);

        using var keyed = new HttpRequestMessage(HttpMethod.Get, "/capa/v1/models");
        keyed.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-store-key");
        using var ok = await server.Http.SendAsync(keyed);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task The_config_files_switch_turns_the_routes_off()
    {
        var config = Path.Combine(_root, "capa.json");
        await File.WriteAllTextAsync(config, """{"model_management": false}""");
        await using var server = await StartAsync(configFile: config);

        using var list = await server.Http.GetAsync("/capa/v1/models");
        await ErrorAssert.IsOpenAIErrorAsync(list, HttpStatusCode.NotFound);
        using var pull = await server.Http.PostAsync("/capa/v1/models/pull", Json($$"""{"model":"{{RepoId}}"}"""));
        Assert.True(pull.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, pull.StatusCode.ToString());
        Assert.Empty(_hub.Requests);
        var features = JsonDocument.Parse(await server.Http.GetStringAsync("/playground/features")).RootElement;
        Assert.Equal("none", features.GetProperty("areas").GetProperty("model_store").GetString());
    }

    [Fact]
    public async Task Features_report_the_model_store_when_it_is_served()
    {
        await using var server = await StartAsync();

        var features = JsonDocument.Parse(await server.Http.GetStringAsync("/playground/features")).RootElement;
        Assert.Equal("local", features.GetProperty("areas").GetProperty("model_store").GetString());
    }

    private Task<CapaTestServer> StartAsync(IReadOnlyList<string>? apiKeys = null, string? configFile = null) =>
        CapaTestServer.StartAsync(new CapaServerOptions
        {
            ModelsDirectory = ModelsDir,
            ApiKeys = apiKeys ?? [],
            ConfigFile = configFile,
            HubOptions = new HubClientOptions
            {
                Endpoint = _hub.Endpoint,
                MaxRetries = 0,
                RetryDelay = TimeSpan.Zero,
                ResponseTimeout = TimeSpan.FromSeconds(20),
                ReadTimeout = TimeSpan.FromSeconds(20),
            },
        });

    private static async Task<List<JsonElement>> ListAsync(CapaTestServer server)
    {
        var json = JsonDocument.Parse(await server.Http.GetStringAsync("/capa/v1/models")).RootElement;
        Assert.Equal("list", json.GetProperty("object").GetString());
        return [.. json.GetProperty("data").EnumerateArray()];
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
