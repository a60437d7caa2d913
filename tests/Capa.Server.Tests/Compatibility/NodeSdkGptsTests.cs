using System.Text.Json;
using Capa.Server.Embeddings;
using Capa.Server.Hosting;
using Capa.Server.Tests.Assistants;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels.Embeddings;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Tests.Compatibility;

/// <summary>
/// A custom GPT built both ways through the official OpenAI Node SDK (tests/oracle/openai-node-gpts.mjs), with only the
/// base URL changed: Files, a vector store and its search, Responses with file_search and citations, an Assistants run
/// searching a file attached to a thread message, and a streamed run with a function tool round trip. The server has a
/// tiny random-weight encoder (search finds exact words by BM25), <c>local-chat</c> and the <c>scripted</c> tool caller.
/// The script runs once per class; each test checks one part of what the SDK saw.
/// </summary>
public sealed class NodeSdkGptsTests(NodeSdkGptsTests.SdkRun run) : IClassFixture<NodeSdkGptsTests.SdkRun>
{
    private static string Text(JsonElement message) => message.GetProperty("content")[0].GetProperty("text").GetProperty("value").GetString()!;

    [NodeSdkFact]
    public async Task Files_and_a_vector_store_are_uploaded_ingested_and_searched()
    {
        var seen = await run.SeenAsync();
        var files = seen.GetProperty("files");
        var baron = files.GetProperty("baron");
        Assert.StartsWith("file-", baron.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("baron.md", baron.GetProperty("filename").GetString());
        Assert.Equal("assistants", baron.GetProperty("purpose").GetString());
        Assert.Equal(baron.GetProperty("id").GetString(), files.GetProperty("retrievedFile").GetProperty("id").GetString());
        Assert.Equal("Baron Nashor spawns at twenty minutes. The codeword is heliotrope.", files.GetProperty("fileContent").GetString());

        var store = seen.GetProperty("vectorStore");
        Assert.Equal("completed", store.GetProperty("status").GetString());
        Assert.Equal("英雄联盟 notes", store.GetProperty("name").GetString());
        Assert.Equal(2, store.GetProperty("file_counts").GetProperty("completed").GetInt32());
        Assert.All(seen.GetProperty("vectorStoreFiles").EnumerateArray(), f => Assert.Equal("completed", f.GetProperty("status").GetString()));
        Assert.Equal(2, seen.GetProperty("vectorStoreFiles").GetArrayLength());

        var first = seen.GetProperty("search")[0];
        Assert.Equal(baron.GetProperty("id").GetString(), first.GetProperty("file_id").GetString());
        Assert.Equal("baron.md", first.GetProperty("filename").GetString());
        Assert.InRange(first.GetProperty("score").GetDouble(), 0, 1);
        Assert.Contains("heliotrope", first.GetProperty("content")[0].GetProperty("text").GetString(), StringComparison.Ordinal);

        Assert.True(seen.GetProperty("deleted").GetProperty("vectorStore").GetProperty("deleted").GetBoolean());
        Assert.True(seen.GetProperty("deleted").GetProperty("file").GetProperty("deleted").GetBoolean());
    }

    [NodeSdkFact]
    public async Task A_response_with_file_search_has_the_call_its_results_and_citations()
    {
        var seen = await run.SeenAsync();
        var baronId = seen.GetProperty("files").GetProperty("baron").GetProperty("id").GetString();
        var output = seen.GetProperty("response").GetProperty("output");
        Assert.Equal("file_search_call", output[0].GetProperty("type").GetString());
        Assert.Equal("When is the heliotrope codeword used?", output[0].GetProperty("queries")[0].GetString());
        Assert.Equal(baronId, output[0].GetProperty("results")[0].GetProperty("file_id").GetString());
        Assert.Equal("message", output[1].GetProperty("type").GetString());
        var annotations = output[1].GetProperty("content")[0].GetProperty("annotations");
        Assert.Contains(annotations.EnumerateArray(), a => a.GetProperty("type").GetString() == "file_citation" && a.GetProperty("file_id").GetString() == baronId);

        // The SDK's output_text is the message's text.
        Assert.Equal(output[1].GetProperty("content")[0].GetProperty("text").GetString(), seen.GetProperty("outputText").GetString());

        var types = seen.GetProperty("streamedTypes").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.True(types.IndexOf("response.file_search_call.in_progress") < types.IndexOf("response.file_search_call.searching"));
        Assert.True(types.IndexOf("response.file_search_call.searching") < types.IndexOf("response.file_search_call.completed"));
        Assert.Contains("response.output_text.annotation.added", types);
        Assert.Equal("response.completed", types[^1]);
        Assert.Equal("completed", seen.GetProperty("streamedCompleted").GetProperty("status").GetString());
    }

    [NodeSdkFact]
    public async Task A_file_attached_to_a_thread_message_is_searched_by_the_run_and_cited()
    {
        var attachments = (await run.SeenAsync()).GetProperty("attachments");
        var vectorStores = attachments.GetProperty("thread").GetProperty("tool_resources").GetProperty("file_search").GetProperty("vector_store_ids");
        Assert.Equal(1, vectorStores.GetArrayLength());
        Assert.Equal("completed", attachments.GetProperty("run").GetProperty("status").GetString());

        var messages = attachments.GetProperty("messages");
        var fileId = messages[0].GetProperty("attachments")[0].GetProperty("file_id").GetString();
        Assert.Equal("file_search", messages[0].GetProperty("attachments")[0].GetProperty("tools")[0].GetProperty("type").GetString());

        var step = attachments.GetProperty("steps")[0];
        Assert.Equal("tool_calls", step.GetProperty("type").GetString());
        var search = step.GetProperty("step_details").GetProperty("tool_calls")[0];
        Assert.Equal("file_search", search.GetProperty("type").GetString());
        Assert.Equal(fileId, search.GetProperty("file_search").GetProperty("results")[0].GetProperty("file_id").GetString());

        var answer = messages[1];
        Assert.Equal("assistant", answer.GetProperty("role").GetString());
        var annotations = answer.GetProperty("content")[0].GetProperty("text").GetProperty("annotations");
        Assert.Contains(annotations.EnumerateArray(), a => a.GetProperty("file_citation").GetProperty("file_id").GetString() == fileId);
    }

    [NodeSdkFact]
    public async Task A_streamed_run_calls_the_function_takes_its_output_and_streams_the_answer()
    {
        var tools = (await run.SeenAsync()).GetProperty("tools");
        var first = tools.GetProperty("firstEvents").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal("thread.run.created", first[0]);
        Assert.Equal("thread.run.requires_action", first[^1]);
        var call = tools.GetProperty("toolCall");
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"city":"上海"}""", call.GetProperty("function").GetProperty("arguments").GetString());

        var second = tools.GetProperty("secondEvents").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal("thread.run.step.completed", second[0]);
        Assert.Contains("thread.message.delta", second);
        Assert.Equal("thread.run.completed", second[^1]);
        Assert.Equal("tool said: 晴，25°C", tools.GetProperty("streamedText").GetString());
        Assert.Equal("completed", tools.GetProperty("finalRun").GetProperty("status").GetString());

        var steps = tools.GetProperty("steps");
        Assert.Equal(["tool_calls", "message_creation"], steps.EnumerateArray().Select(s => s.GetProperty("type").GetString()));
        Assert.Equal("晴，25°C", steps[0].GetProperty("step_details").GetProperty("tool_calls")[0].GetProperty("function").GetProperty("output").GetString());
        var messages = tools.GetProperty("messages");
        Assert.Equal("tool said: 晴，25°C", Text(messages[messages.GetArrayLength() - 1]));
    }

    [NodeSdkFact]
    public async Task Unknown_ids_are_the_sdks_not_found_errors()
    {
        var seen = await run.SeenAsync();
        var notFound = seen.GetProperty("notFound");
        Assert.True(notFound.GetProperty("isNotFound").GetBoolean(), notFound.GetRawText());
        Assert.Equal(404, notFound.GetProperty("status").GetInt32());

        var attachment = seen.GetProperty("badAttachment");
        Assert.True(attachment.GetProperty("isNotFound").GetBoolean(), attachment.GetRawText());
        Assert.Equal("messages[0].attachments[0].file_id", attachment.GetProperty("param").GetString());
        Assert.True(seen.GetProperty("deleted").GetProperty("assistant").GetProperty("deleted").GetBoolean());
        Assert.True(seen.GetProperty("deleted").GetProperty("thread").GetProperty("deleted").GetBoolean());
    }

    /// <summary>The server and one run of the script, shared by the tests of the class.</summary>
    public sealed class SdkRun : IAsyncLifetime
    {
        private readonly string _root = Directory.CreateTempSubdirectory("capa-node-gpts-").FullName;
        private readonly Lock _lock = new();
        private CapaTestServer? _server;
        private Task<JsonElement>? _run;

        /// <summary>What the SDK saw (the script's output); a failed run fails every test that asks, without rerunning.</summary>
        public Task<JsonElement> SeenAsync()
        {
            lock (_lock)
            {
                return _run ??= RunAsync();
            }
        }

        private async Task<JsonElement> RunAsync()
        {
            var models = Path.Combine(_root, "models");
            BertEncoderWriter.Write(new BertEncoderSpec { Seed = 2 }, Path.Combine(models, "test", "bert-tiny"));
            _server = await CapaTestServer.StartAsync(new CapaServerOptions { ModelsDirectory = models, StateDirectory = Path.Combine(_root, "state") }, b =>
            {
                b.Services.AddChatProvider(new LocalTestProvider());
                b.Services.AddChatProvider(new ScriptedAssistantProvider());
                b.Services.AddSingleton(new EmbeddingOptions { ModelsDirectory = models, CreateTinyWhenEmpty = false, IntraOpThreads = 1 });
            });
            return await NodeSdk.RunScriptAsync("openai-node-gpts.mjs", _server.BaseUrl + "/v1", "local-chat", ScriptedAssistantProvider.Model);
        }

        /// <inheritdoc />
        public Task InitializeAsync() => Task.CompletedTask;

        /// <inheritdoc />
        public async Task DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }

            Directory.Delete(_root, recursive: true);
        }
    }
}
