using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Server.Embeddings;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels.Embeddings;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Files;
using OpenAI.VectorStores;

namespace Capa.Server.Tests.VectorStores;

#pragma warning disable OPENAI001 // Vector stores are marked experimental in the SDK.

/// <summary>A server with state in a temporary folder and one tiny BERT encoder in its store.</summary>
public sealed class VectorStoresServerFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-vs-" + Guid.NewGuid().ToString("N"));

    public CapaTestServer Server { get; private set; } = null!;

    public string Models => Path.Combine(_root, "models");

    public string State => Path.Combine(_root, "state");

    public async Task InitializeAsync()
    {
        BertEncoderWriter.Write(new BertEncoderSpec { Seed = 9 }, Path.Combine(Models, "test", "bert-tiny"));
        Server = await StartAsync();
    }

    public Task<CapaTestServer> StartAsync() => CapaTestServer.StartAsync(new CapaServerOptions { ModelsDirectory = Models, StateDirectory = State },
        b => b.Services.AddSingleton(new EmbeddingOptions { ModelsDirectory = Models, CreateTinyWhenEmpty = false, IntraOpThreads = 1 }));

    public OpenAIClientOptions Options(CapaTestServer? server = null) => new()
    {
        Endpoint = new Uri((server ?? Server).BaseUrl + "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    };

    public OpenAIFileClient Files(CapaTestServer? server = null) => new(new ApiKeyCredential("unused"), Options(server));

    public VectorStoreClient VectorStores(CapaTestServer? server = null) => new(new ApiKeyCredential("unused"), new VectorStoreClientOptions
    {
        Endpoint = new Uri((server ?? Server).BaseUrl + "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    });

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed class VectorStoresEndpointTests(VectorStoresServerFixture fixture) : IClassFixture<VectorStoresServerFixture>
{
    /// <summary>Files that share common words and each hold one rare word.</summary>
    private static readonly (string Name, string Text, string Rare, string Team)[] Notes =
    [
        ("jungle.md", "# Notes\n\nThe jungle role controls objectives. The rare word here is quetzalcoatl. Play safe and ward the river.", "quetzalcoatl", "blue"),
        ("support.md", "# Notes\n\nThe support role protects the carry. The rare word here is xylophonist. Play safe and ward the river.", "xylophonist", "red"),
        ("英雄.md", "# 笔记\n\n英雄联盟的中路英雄需要控制兵线。稀有词是 zanzibarite。Play safe and ward the river.", "zanzibarite", "blue"),
    ];

    private async Task<(string StoreId, Dictionary<string, string> FileIds)> BuildStoreAsync(string? chunking = null)
    {
        var files = fixture.Files();
        var ids = new Dictionary<string, string>();
        foreach (var (name, text, _, _) in Notes)
        {
            OpenAIFile file = await files.UploadFileAsync(BinaryData.FromString(text), name, FileUploadPurpose.Assistants);
            ids[name] = file.Id;
        }

        var body = JsonSerializer.Serialize(new { name = "英雄联盟 notes", file_ids = ids.Values.ToArray(), metadata = new { owner = "test" } });
        if (chunking is not null)
        {
            body = body[..^1] + ",\"chunking_strategy\":" + chunking + "}";
        }

        using var response = await fixture.Server.Http.PostAsync("/v1/vector_stores", Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var storeId = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        foreach (var (name, _, _, team) in Notes)
        {
            using var update = await fixture.Server.Http.PostAsync($"/v1/vector_stores/{storeId}/files/{ids[name]}", Json($$$"""{"attributes":{"team":"{{{team}}}","year":{{{(team == "red" ? 2024 : 2025)}}}}}"""));
            Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        }

        await WaitCompletedAsync(storeId);
        return (storeId, ids);
    }

    private async Task<VectorStore> WaitCompletedAsync(string storeId, CapaTestServer? server = null)
    {
        var client = fixture.VectorStores(server);
        for (var i = 0; i < 600; i++)
        {
            VectorStore store = await client.GetVectorStoreAsync(storeId);
            if (store.FileCounts.InProgress == 0)
            {
                Assert.Equal(VectorStoreStatus.Completed, store.Status);
                return store;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The vector store did not finish ingesting within 60 s.");
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private async Task<JsonElement> SearchAsync(string storeId, string body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await fixture.Server.Http.PostAsync($"/v1/vector_stores/{storeId}/search", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task The_sdk_builds_a_store_whose_files_are_ingested_and_counted()
    {
        var (storeId, ids) = await BuildStoreAsync();
        var client = fixture.VectorStores();
        VectorStore store = await client.GetVectorStoreAsync(storeId);
        Assert.Equal("英雄联盟 notes", store.Name);
        Assert.Equal(3, store.FileCounts.Completed);
        Assert.Equal(3, store.FileCounts.Total);
        Assert.True(store.UsageBytes > 0);
        Assert.Equal("test", store.Metadata["owner"]);

        VectorStoreFile file = await client.GetVectorStoreFileAsync(storeId, ids["英雄.md"]);
        Assert.Equal(VectorStoreFileStatus.Completed, file.Status);

        using var content = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync($"/v1/vector_stores/{storeId}/files/{ids["英雄.md"]}/content"));
        Assert.Equal("vector_store.file_content.page", content.RootElement.GetProperty("object").GetString());
        var text = string.Concat(content.RootElement.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("text").GetString()));
        Assert.Contains("zanzibarite", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_rare_word_ranks_its_file_first_even_with_random_weights()
    {
        var (storeId, ids) = await BuildStoreAsync();
        foreach (var (name, _, rare, _) in Notes)
        {
            var page = await SearchAsync(storeId, JsonSerializer.Serialize(new { query = "which note mentions " + rare + "?" }));
            Assert.Equal("vector_store.search_results.page", page.GetProperty("object").GetString());
            var data = page.GetProperty("data");
            Assert.Equal(ids[name], data[0].GetProperty("file_id").GetString());
            Assert.Equal(name, data[0].GetProperty("filename").GetString());
            Assert.Contains(rare, data[0].GetProperty("content")[0].GetProperty("text").GetString(), StringComparison.Ordinal);
            var scores = data.EnumerateArray().Select(d => d.GetProperty("score").GetDouble()).ToList();
            Assert.All(scores, s => Assert.InRange(s, 0, 1));
            Assert.Equal(scores.OrderByDescending(s => s), scores);
            Assert.True(scores[0] > scores[^1]);
        }
    }

    [Fact]
    public async Task Filters_threshold_and_max_results_narrow_the_results()
    {
        var (storeId, ids) = await BuildStoreAsync();
        var blue = await SearchAsync(storeId, """{"query":"ward the river","filters":{"type":"eq","key":"team","value":"blue"}}""");
        Assert.Equal(new HashSet<string> { ids["jungle.md"], ids["英雄.md"] }, blue.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("file_id").GetString()!).ToHashSet());
        Assert.All(blue.GetProperty("data").EnumerateArray(), d => Assert.Equal("blue", d.GetProperty("attributes").GetProperty("team").GetString()));

        var compound = await SearchAsync(storeId, """{"query":"river","filters":{"type":"or","filters":[{"type":"gte","key":"year","value":2025},{"type":"in","key":"team","value":["red"]}]}}""");
        Assert.Equal(3, compound.GetProperty("data").GetArrayLength());
        var none = await SearchAsync(storeId, """{"query":"river","filters":{"type":"and","filters":[{"type":"eq","key":"team","value":"red"},{"type":"gt","key":"year","value":2024}]}}""");
        Assert.Equal(0, none.GetProperty("data").GetArrayLength());

        var one = await SearchAsync(storeId, """{"query":["river","quetzalcoatl"],"max_num_results":1}""");
        Assert.Equal(1, one.GetProperty("data").GetArrayLength());
        Assert.Equal(["river", "quetzalcoatl"], one.GetProperty("search_query").EnumerateArray().Select(q => q.GetString()));

        var strict = await SearchAsync(storeId, """{"query":"quetzalcoatl","ranking_options":{"score_threshold":0.99}}""");
        Assert.All(strict.GetProperty("data").EnumerateArray(), d => Assert.True(d.GetProperty("score").GetDouble() >= 0.99));
        Assert.True(strict.GetProperty("data").GetArrayLength() < 3);

        var vectorOnly = await SearchAsync(storeId, """{"query":"river","ranking_options":{"ranker":"none"}}""");
        Assert.Equal(3, vectorOnly.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Static_chunking_cuts_files_into_overlapping_chunks()
    {
        var text = string.Join(' ', Enumerable.Range(0, 600).Select(i => "word" + i));
        OpenAIFile file = await fixture.Files().UploadFileAsync(BinaryData.FromString(text), "long.txt", FileUploadPurpose.Assistants);
        var createBody = JsonSerializer.Serialize(new { file_ids = new[] { file.Id }, chunking_strategy = new { type = "static", @static = new { max_chunk_size_tokens = 100, chunk_overlap_tokens = 50 } } });
        using var created = await fixture.Server.Http.PostAsync("/v1/vector_stores", Json(createBody));
        var storeId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        await WaitCompletedAsync(storeId);
        using var fileObject = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync($"/v1/vector_stores/{storeId}/files/{file.Id}"));
        Assert.Equal(100, fileObject.RootElement.GetProperty("chunking_strategy").GetProperty("static").GetProperty("max_chunk_size_tokens").GetInt32());
        using var content = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync($"/v1/vector_stores/{storeId}/files/{file.Id}/content"));
        var chunks = content.RootElement.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("text").GetString()!).ToList();
        Assert.True(chunks.Count > 5);
        Assert.StartsWith("word0 ", chunks[0], StringComparison.Ordinal);
        Assert.EndsWith("word599", chunks[^1], StringComparison.Ordinal);
        var firstWords = chunks[0].Split(' ');
        Assert.Contains(firstWords[^1], chunks[1].Split(' '));
    }

    [Fact]
    public async Task Unsupported_and_empty_files_fail_with_a_reason_and_are_counted()
    {
        var files = fixture.Files();
        OpenAIFile pdf = await files.UploadFileAsync(BinaryData.FromBytes("PK\u0003\u0004 binary"u8.ToArray()), "archive.zip", FileUploadPurpose.Assistants);
        OpenAIFile blank = await files.UploadFileAsync(BinaryData.FromString("   \n  "), "blank.txt", FileUploadPurpose.Assistants);
        OpenAIFile good = await files.UploadFileAsync(BinaryData.FromString("fine text"), "ok.txt", FileUploadPurpose.Assistants);
        var client = fixture.VectorStores();
        VectorStore store = await client.CreateVectorStoreAsync(new VectorStoreCreationOptions { FileIds = { pdf.Id, blank.Id, good.Id } });
        store = await WaitCompletedAsync(store.Id);
        Assert.Equal(2, store.FileCounts.Failed);
        Assert.Equal(1, store.FileCounts.Completed);

        VectorStoreFile failed = await client.GetVectorStoreFileAsync(store.Id, pdf.Id);
        Assert.Equal(VectorStoreFileStatus.Failed, failed.Status);
        Assert.Equal(VectorStoreFileErrorCode.UnsupportedFile, failed.LastError.Code);
        Assert.Contains(".zip", failed.LastError.Message, StringComparison.Ordinal);

        using var list = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync($"/v1/vector_stores/{store.Id}/files?filter=failed"));
        Assert.Equal(2, list.RootElement.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Batches_ingest_their_files_and_list_them()
    {
        var files = fixture.Files();
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await files.UploadFileAsync(BinaryData.FromString("batch file number " + i), $"b{i}.txt", FileUploadPurpose.Assistants)).Value.Id);
        }

        var client = fixture.VectorStores();
        VectorStore store = await client.CreateVectorStoreAsync(new VectorStoreCreationOptions { Name = "batches" });
        VectorStoreFileBatch batch = await client.AddFileBatchToVectorStoreAsync(store.Id, ids);
        Assert.StartsWith("vsfb_", batch.BatchId, StringComparison.Ordinal);
        await WaitCompletedAsync(store.Id);
        batch = await client.GetVectorStoreFileBatchAsync(store.Id, batch.BatchId);
        Assert.Equal(VectorStoreFileBatchStatus.Completed, batch.Status);
        Assert.Equal(4, batch.FileCounts.Completed);

        using var listed = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync($"/v1/vector_stores/{store.Id}/file_batches/{batch.BatchId}/files?limit=3&order=asc"));
        Assert.Equal(ids.Take(3), listed.RootElement.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("id").GetString()));
        Assert.True(listed.RootElement.GetProperty("has_more").GetBoolean());

        VectorStoreFileBatch cancelled = await client.CancelVectorStoreFileBatchAsync(store.Id, batch.BatchId);
        Assert.Equal(VectorStoreFileBatchStatus.Cancelled, cancelled.Status);
        Assert.Equal(4, cancelled.FileCounts.Completed);
    }

    [Fact]
    public async Task Modify_remove_and_delete_work_through_the_sdk()
    {
        var (storeId, ids) = await BuildStoreAsync();
        var client = fixture.VectorStores();
        VectorStore modified = await client.ModifyVectorStoreAsync(storeId, new VectorStoreModificationOptions { Name = "renamed", ExpirationPolicy = new VectorStoreExpirationPolicy(VectorStoreExpirationAnchor.LastActiveAt, 7) });
        Assert.Equal("renamed", modified.Name);
        Assert.Equal(7, modified.ExpirationPolicy.Days);
        Assert.NotNull(modified.ExpiresAt);

        FileFromStoreRemovalResult removed = await client.RemoveFileFromVectorStoreAsync(storeId, ids["jungle.md"]);
        Assert.True(removed.Removed);
        var search = await SearchAsync(storeId, """{"query":"quetzalcoatl"}""");
        Assert.DoesNotContain(search.GetProperty("data").EnumerateArray(), d => d.GetProperty("file_id").GetString() == ids["jungle.md"]);

        // Deleting the file itself removes it from the store too.
        await fixture.Files().DeleteFileAsync(ids["support.md"]);
        VectorStore after = await client.GetVectorStoreAsync(storeId);
        Assert.Equal(1, after.FileCounts.Total);

        VectorStoreDeletionResult deleted = await client.DeleteVectorStoreAsync(storeId);
        Assert.True(deleted.Deleted);
        var missing = await Assert.ThrowsAsync<ClientResultException>(() => client.GetVectorStoreAsync(storeId));
        Assert.Equal(404, missing.Status);
    }

    [Theory]
    [InlineData("""{"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":50,"chunk_overlap_tokens":0}}}""", "integer_out_of_range")]
    [InlineData("""{"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":400,"chunk_overlap_tokens":201}}}""", "integer_out_of_range")]
    [InlineData("""{"chunking_strategy":{"type":"dynamic"}}""", "invalid_value")]
    [InlineData("""{"expires_after":{"anchor":"last_active_at","days":0}}""", "integer_out_of_range")]
    [InlineData("""{"metadata":{"k":1}}""", "invalid_value")]
    [InlineData("""{"file_ids":"file-1"}""", "invalid_type")]
    public async Task Bad_creates_get_openais_400(string body, string code)
    {
        using var response = await fixture.Server.Http.PostAsync("/v1/vector_stores", Json(body));
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task Bad_searches_batches_and_unknown_ids_get_openais_errors()
    {
        VectorStore store = await fixture.VectorStores().CreateVectorStoreAsync(new VectorStoreCreationOptions());
        foreach (var (body, code) in new[]
        {
            ("""{}""", "missing_required_parameter"),
            ("""{"query":""}""", "invalid_value"),
            ("""{"query":"x","max_num_results":51}""", "integer_out_of_range"),
            ("""{"query":"x","filters":{"type":"like","key":"a","value":"b"}}""", "invalid_value"),
            ("""{"query":"x","filters":{"type":"eq","value":"b"}}""", "missing_required_parameter"),
            ("""{"query":"x","filters":{"type":"in","key":"a","value":"b"}}""", "invalid_value"),
            ("""{"query":"x","ranking_options":{"score_threshold":2}}""", "invalid_value"),
            ("""{"query":"x","ranking_options":{"ranker":"best"}}""", "invalid_value"),
        })
        {
            using var response = await fixture.Server.Http.PostAsync($"/v1/vector_stores/{store.Id}/search", Json(body));
            await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, code);
        }

        var tooMany = JsonSerializer.Serialize(new { file_ids = Enumerable.Range(0, 2001).Select(i => "file-" + i).ToArray() });
        using (var response = await fixture.Server.Http.PostAsync($"/v1/vector_stores/{store.Id}/file_batches", Json(tooMany)))
        {
            await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, "array_above_max_length", "file_ids");
        }

        using (var response = await fixture.Server.Http.PostAsync($"/v1/vector_stores/{store.Id}/files", Json("""{"file_id":"file-missing"}""")))
        {
            await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.NotFound);
        }

        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, "/v1/vector_stores/vs_missing"),
            (HttpMethod.Delete, "/v1/vector_stores/vs_missing"),
            (HttpMethod.Get, "/v1/vector_stores/vs_missing/files"),
            (HttpMethod.Get, $"/v1/vector_stores/{store.Id}/files/file-missing"),
            (HttpMethod.Delete, $"/v1/vector_stores/{store.Id}/files/file-missing"),
            (HttpMethod.Get, $"/v1/vector_stores/{store.Id}/files/file-missing/content"),
            (HttpMethod.Get, $"/v1/vector_stores/{store.Id}/file_batches/vsfb_missing"),
            (HttpMethod.Post, $"/v1/vector_stores/{store.Id}/file_batches/vsfb_missing/cancel"),
        })
        {
            using var response = await fixture.Server.Http.SendAsync(new HttpRequestMessage(method, path));
            await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.NotFound);
        }
    }
}
