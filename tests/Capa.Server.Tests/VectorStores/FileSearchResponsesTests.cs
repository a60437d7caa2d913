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
