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
using OpenAI.Files;
using OpenAI.Responses;

namespace Capa.Server.Tests.VectorStores;

#pragma warning disable OPENAI001 // The Responses client is marked experimental.

/// <summary>A server with the scripted chat provider, a tiny encoder, and a vector store of two notes.</summary>
public sealed class FileSearchServerFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-fs-" + Guid.NewGuid().ToString("N"));

    public LocalTestProvider Local { get; } = new();

    public CapaTestServer Server { get; private set; } = null!;

    public string VectorStoreId { get; private set; } = "";

    public Dictionary<string, string> FileIds { get; } = [];

    public async Task InitializeAsync()
    {
        var models = Path.Combine(_root, "models");
        BertEncoderWriter.Write(new BertEncoderSpec { Seed = 2 }, Path.Combine(models, "test", "bert-tiny"));
        Server = await CapaTestServer.StartAsync(new CapaServerOptions { ModelsDirectory = models, StateDirectory = Path.Combine(_root, "state") }, b =>
        {
            b.Services.AddChatProvider(Local);
            b.Services.AddSingleton(new EmbeddingOptions { ModelsDirectory = models, CreateTinyWhenEmpty = false, IntraOpThreads = 1 });
        });
        var files = new OpenAIFileClient(new ApiKeyCredential("unused"), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(Server.BaseUrl + "/v1") });
        foreach (var (name, text) in new[] { ("baron.md", "Baron Nashor spawns at twenty minutes. The codeword is heliotrope."), ("dragon.md", "Elemental drakes spawn at five minutes. The codeword is marzipan.") })
        {
            FileIds[name] = (await files.UploadFileAsync(BinaryData.FromString(text), name, FileUploadPurpose.Assistants)).Value.Id;
        }

        using var created = await Server.Http.PostAsync("/v1/vector_stores", new StringContent(JsonSerializer.Serialize(new { file_ids = FileIds.Values.ToArray() }), Encoding.UTF8, "application/json"));
        VectorStoreId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        for (var i = 0; i < 600; i++)
        {
            var body = await Server.Http.GetStringAsync("/v1/vector_stores/" + VectorStoreId);
            if (body.Contains("\"status\":\"completed\"", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("Ingestion did not finish.");
    }

    public ResponsesClient Client() => new(new ApiKeyCredential("unused"), new ResponsesClientOptions
    {
        Endpoint = new Uri(Server.BaseUrl + "/v1"),
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

public sealed class FileSearchResponsesTests(FileSearchServerFixture fixture) : IClassFixture<FileSearchServerFixture>
{
    [Fact]
    public async Task The_sdk_gets_a_file_search_call_with_results_and_citations_and_the_model_sees_the_excerpts()
    {
        var user = "fs-" + Guid.NewGuid().ToString("N");
        var options = new CreateResponseOptions("local-chat", [ResponseItem.CreateUserMessageItem("When is the heliotrope codeword used?")])
        {
            Tools = { ResponseTool.CreateFileSearchTool([fixture.VectorStoreId], 5) },
            IncludedProperties = { IncludedResponseProperty.FileSearchCallResults },
            EndUserId = user,
        };
        ResponseResult result = await fixture.Client().CreateResponseAsync(options);

        Assert.Equal(2, result.OutputItems.Count);
        var call = Assert.IsType<FileSearchCallResponseItem>(result.OutputItems[0]);
        Assert.Equal(["When is the heliotrope codeword used?"], call.Queries);
        Assert.Equal(fixture.FileIds["baron.md"], call.Results[0].FileId);
        Assert.Equal("baron.md", call.Results[0].Filename);
        Assert.Contains("heliotrope", call.Results[0].Text, StringComparison.Ordinal);

        var message = Assert.IsAssignableFrom<MessageResponseItem>(result.OutputItems[1]);
        var citations = message.Content[0].OutputTextAnnotations.OfType<FileCitationMessageAnnotation>().ToList();
        Assert.Contains(citations, c => c.FileId == fixture.FileIds["baron.md"]);
        Assert.All(citations, c => Assert.Equal(message.Content[0].Text.Length, c.Index));

        // The excerpts reached the model as context; the stored input is only what the client sent.
        var seen = fixture.Local.Calls[user];
        Assert.Contains("heliotrope", Encoding.UTF8.GetString(seen.Body.Span), StringComparison.Ordinal);
        using var input = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync($"/v1/responses/{result.Id}/input_items"));
        Assert.Equal(1, input.RootElement.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Without_include_the_call_has_no_results_and_streaming_reports_the_search_events()
    {
        var body = JsonSerializer.Serialize(new
        {
            model = "local-chat",
            input = "marzipan?",
            stream = true,
            tools = new object[] { new { type = "file_search", vector_store_ids = new[] { fixture.VectorStoreId }, filters = new { type = "eq", key = "none", value = "x" } } },
        });
        using var response = await fixture.Server.Http.PostAsync("/v1/responses", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        var types = text.Split('\n').Where(l => l.StartsWith("event: ", StringComparison.Ordinal)).Select(l => l[7..]).ToList();
        var searching = types.IndexOf("response.file_search_call.searching");
        Assert.True(types.IndexOf("response.in_progress") < types.IndexOf("response.file_search_call.in_progress"));
        Assert.True(searching > 0 && types.IndexOf("response.file_search_call.completed") > searching);
        Assert.True(types.IndexOf("response.file_search_call.completed") < types.IndexOf("response.output_text.delta"));
        Assert.Equal("response.completed", types[^1]);

        // The filter matched nothing: no excerpts, no citations, no results field.
        Assert.DoesNotContain("response.output_text.annotation.added", types);
        Assert.DoesNotContain("\"results\"", text, StringComparison.Ordinal);

        var withCitations = JsonSerializer.Serialize(new
        {
            model = "local-chat",
            input = "marzipan?",
            stream = true,
            tools = new object[] { new { type = "file_search", vector_store_ids = new[] { fixture.VectorStoreId } } },
        });
        using var cited = await fixture.Server.Http.PostAsync("/v1/responses", new StringContent(withCitations, Encoding.UTF8, "application/json"));
        var citedText = await cited.Content.ReadAsStringAsync();
        Assert.Contains("event: response.output_text.annotation.added", citedText, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"file_citation\"", citedText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_assistant_with_a_vector_store_searches_it_records_the_step_and_cites_the_file()
    {
        async Task<JsonElement> PostAsync(string path, object body)
        {
            using var response = await fixture.Server.Http.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            return JsonDocument.Parse(text).RootElement.Clone();
        }

        var assistant = await PostAsync("/v1/assistants", new
        {
            model = "local-chat",
            instructions = "Answer from the notes.",
            tools = new object[] { new { type = "file_search", file_search = new { max_num_results = 3 } } },
            tool_resources = new { file_search = new { vector_store_ids = new[] { fixture.VectorStoreId } } },
        });
        var run = await PostAsync("/v1/threads/runs", new
        {
            assistant_id = assistant.GetProperty("id").GetString(),
            thread = new { messages = new[] { new { role = "user", content = "Which codeword goes with Baron Nashor? heliotrope" } } },
        });
        var threadId = run.GetProperty("thread_id").GetString();
        var runId = run.GetProperty("id").GetString();
        for (var i = 0; i < 300 && run.GetProperty("status").GetString() is "queued" or "in_progress"; i++)
        {
            await Task.Delay(50);
            run = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync($"/v1/threads/{threadId}/runs/{runId}")).RootElement.Clone();
        }

        Assert.Equal("completed", run.GetProperty("status").GetString());

        // The search is a completed tool_calls step before the message, with the ranking options and scored results.
        using var steps = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync($"/v1/threads/{threadId}/runs/{runId}/steps?order=asc"));
        var data = steps.RootElement.GetProperty("data");
        Assert.Equal(2, data.GetArrayLength());
        Assert.Equal("tool_calls", data[0].GetProperty("type").GetString());
        Assert.Equal("completed", data[0].GetProperty("status").GetString());
        var call = data[0].GetProperty("step_details").GetProperty("tool_calls")[0];
        Assert.Equal("file_search", call.GetProperty("type").GetString());
        Assert.Equal("auto", call.GetProperty("file_search").GetProperty("ranking_options").GetProperty("ranker").GetString());
        var results = call.GetProperty("file_search").GetProperty("results");
        Assert.Equal(fixture.FileIds["baron.md"], results[0].GetProperty("file_id").GetString());
        Assert.Equal("baron.md", results[0].GetProperty("file_name").GetString());
        Assert.InRange(results[0].GetProperty("score").GetDouble(), 0, 1);
        Assert.False(results[0].TryGetProperty("content", out _));
        Assert.Equal("message_creation", data[1].GetProperty("type").GetString());

        // The model read the excerpts; the answer cites the file.
        Assert.Contains("heliotrope", Encoding.UTF8.GetString(fixture.Local.Calls[""].Body.Span), StringComparison.Ordinal);
        Assert.Contains("Baron Nashor spawns", Encoding.UTF8.GetString(fixture.Local.Calls[""].Body.Span), StringComparison.Ordinal);
        using var messages = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync($"/v1/threads/{threadId}/messages"));
        var text = messages.RootElement.GetProperty("data")[0].GetProperty("content")[0].GetProperty("text");
        var value = text.GetProperty("value").GetString()!;
        var annotations = text.GetProperty("annotations").EnumerateArray().ToList();
        Assert.Contains(annotations, a => a.GetProperty("file_citation").GetProperty("file_id").GetString() == fixture.FileIds["baron.md"]);
        Assert.All(annotations, a =>
        {
            Assert.Equal("file_citation", a.GetProperty("type").GetString());
            Assert.Equal(value.Length, a.GetProperty("start_index").GetInt32());
            Assert.Equal(value.Length, a.GetProperty("end_index").GetInt32());
        });

        // The excerpts were context for the run only: the thread holds the question and the answer.
        Assert.Equal(2, messages.RootElement.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task A_run_whose_vector_store_was_deleted_fails_naming_it()
    {
        using var created = await fixture.Server.Http.PostAsync("/v1/vector_stores", new StringContent("{}", Encoding.UTF8, "application/json"));
        var gone = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        using var deleted = await fixture.Server.Http.DeleteAsync("/v1/vector_stores/" + gone);
        var body = JsonSerializer.Serialize(new
        {
            assistant_id = JsonDocument.Parse(await (await fixture.Server.Http.PostAsync("/v1/assistants", new StringContent(JsonSerializer.Serialize(new
            {
                model = "local-chat",
                tools = new object[] { new { type = "file_search" } },
                tool_resources = new { file_search = new { vector_store_ids = new[] { gone } } },
            }), Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString(),
            thread = new { messages = new[] { new { role = "user", content = "hi" } } },
        });
        using var started = await fixture.Server.Http.PostAsync("/v1/threads/runs", new StringContent(body, Encoding.UTF8, "application/json"));
        var run = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.Clone();
        var path = $"/v1/threads/{run.GetProperty("thread_id").GetString()}/runs/{run.GetProperty("id").GetString()}";
        for (var i = 0; i < 300 && run.GetProperty("status").GetString() is "queued" or "in_progress"; i++)
        {
            await Task.Delay(50);
            run = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync(path)).RootElement.Clone();
        }

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Contains(gone, run.GetProperty("last_error").GetProperty("message").GetString()!, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"local-chat","input":"x","tools":[{"type":"file_search"}]}""", 400, "tools[0].vector_store_ids")]
    [InlineData("""{"model":"local-chat","input":"x","tools":[{"type":"file_search","vector_store_ids":["vs_a","vs_b","vs_c"]}]}""", 400, "tools[0].vector_store_ids")]
    [InlineData("""{"model":"local-chat","input":"x","tools":[{"type":"file_search","vector_store_ids":["vs_a"],"max_num_results":0}]}""", 400, "tools[0].max_num_results")]
    [InlineData("""{"model":"local-chat","input":"x","tools":[{"type":"file_search","vector_store_ids":["vs_a"],"filters":{"type":"eq"}}]}""", 400, "tools[0].filters.key")]
    [InlineData("""{"model":"local-chat","input":"x","tools":[{"type":"file_search","vector_store_ids":["vs_missing"]}]}""", 404, "tools.vector_store_ids")]
    public async Task Bad_file_search_tools_get_openais_errors(string body, int status, string param)
    {
        using var response = await fixture.Server.Http.PostAsync("/v1/responses", new StringContent(body, Encoding.UTF8, "application/json"));
        await ErrorAssert.IsOpenAIErrorAsync(response, (HttpStatusCode)status, param: param);
    }
}
