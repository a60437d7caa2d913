using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Server.Tests.Infrastructure;
using Capa.Server.Tests.VectorStores;
using OpenAI.Assistants;
using OpenAI.Files;

namespace Capa.Server.Tests.Assistants;

/// <summary>
/// Files attached to Assistants messages, through the official .NET SDK: file_search attachments go into the thread's
/// vector store (made for it, 7 days' expiry, recorded in its tool resources), runs search them once ingested, and
/// messages return their attachments; unknown files and code_interpreter get OpenAI's errors.
/// </summary>
public sealed class MessageAttachmentsTests(FileSearchServerFixture fixture) : IClassFixture<FileSearchServerFixture>
{
    private HttpClient Http => fixture.Server.Http;

    private AssistantClient Client() => new(new ApiKeyCredential("unused"), new AssistantClientOptions
    {
        Endpoint = new Uri(fixture.Server.BaseUrl + "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(90),
    });

    private async Task<string> UploadAsync(string name, string text)
    {
        var files = new OpenAIFileClient(new ApiKeyCredential("unused"), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(fixture.Server.BaseUrl + "/v1") });
        return (await files.UploadFileAsync(BinaryData.FromString(text), name, FileUploadPurpose.Assistants)).Value.Id;
    }

    private static async Task<ThreadRun> PollAsync(AssistantClient client, ThreadRun run)
    {
        for (var i = 0; i < 1200 && !run.Status.IsTerminal && run.Status != RunStatus.RequiresAction; i++)
        {
            await Task.Delay(50);
            run = (await client.GetRunAsync(run.ThreadId, run.Id)).Value;
        }

        return run;
    }

    private async Task<JsonElement> GetJsonAsync(string path) => JsonElement.Parse(await Http.GetStringAsync(path));

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, string body)
    {
        using var response = await Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonElement.Parse(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task File_search_attachments_fill_the_threads_own_vector_store_and_the_run_searches_them()
    {
        var client = Client();
        var first = await UploadAsync("tides.md", "The harbour tides turn at dawn. The password is quokka.");
        var second = await UploadAsync("lanterns.md", "Lanterns are lit at dusk. The password is axolotl.");
        var assistant = (await client.CreateAssistantAsync("local-chat", new AssistantCreationOptions
        {
            Instructions = "Answer from the attached files.",
            Tools = { ToolDefinition.CreateFileSearch() },
        })).Value;

        var thread = (await client.CreateThreadAsync(new ThreadCreationOptions
        {
            InitialMessages =
            {
                new ThreadInitializationMessage(MessageRole.User, [MessageContent.FromText("Here are my tide notes.")])
                {
                    Attachments = { new MessageCreationAttachment(first, [ToolDefinition.CreateFileSearch()]) },
                },
            },
        })).Value;

        // The thread got a vector store of its own, expiring 7 days after its last use, as OpenAI's.
        var vectorStoreId = Assert.Single(thread.ToolResources.FileSearch.VectorStoreIds);
        var vectorStore = await GetJsonAsync("/v1/vector_stores/" + vectorStoreId);
        Assert.Equal("last_active_at", vectorStore.GetProperty("expires_after").GetProperty("anchor").GetString());
        Assert.Equal(7, vectorStore.GetProperty("expires_after").GetProperty("days").GetInt32());
        Assert.Equal(
            vectorStore.GetProperty("last_active_at").GetInt64() + (7 * 86_400),
            vectorStore.GetProperty("expires_at").GetInt64());

        // A later message's attachment joins the same store; the message returns its attachments.
        var question = "Which password goes with the lanterns? axolotl";
        var message = (await client.CreateMessageAsync(thread.Id, MessageRole.User, [MessageContent.FromText(question)], new MessageCreationOptions
        {
            Attachments = { new MessageCreationAttachment(second, [ToolDefinition.CreateFileSearch()]) },
        })).Value;
        var attachment = Assert.Single(message.Attachments);
        Assert.Equal(second, attachment.FileId);
        Assert.IsType<FileSearchToolDefinition>(Assert.Single(attachment.Tools));
        Assert.Equal(second, Assert.Single((await client.GetMessageAsync(thread.Id, message.Id)).Value.Attachments).FileId);
        Assert.Equal([vectorStoreId], (await client.GetThreadAsync(thread.Id)).Value.ToolResources.FileSearch.VectorStoreIds);
        var files = await GetJsonAsync($"/v1/vector_stores/{vectorStoreId}/files?order=asc");
        Assert.Equal([first, second], files.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString()));

        // The run starts at once: it waits for the ingestion, then finds the second file's words.
        var run = await PollAsync(client, (await client.CreateRunAsync(thread.Id, assistant.Id)).Value);
        Assert.Equal(RunStatus.Completed, run.Status);
        var steps = await GetJsonAsync($"/v1/threads/{thread.Id}/runs/{run.Id}/steps?order=asc");
        var results = steps.GetProperty("data")[0].GetProperty("step_details").GetProperty("tool_calls")[0].GetProperty("file_search").GetProperty("results");
        Assert.Equal(second, results[0].GetProperty("file_id").GetString());
        Assert.Contains("Lanterns are lit at dusk", Encoding.UTF8.GetString(fixture.Local.Calls[""].Body.Span), StringComparison.Ordinal);
        Assert.Equal("completed", (await GetJsonAsync($"/v1/vector_stores/{vectorStoreId}/files/{second}")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_run_started_while_its_attachment_is_still_queued_waits_for_it()
    {
        // Other stores' files queue ahead of the attachment, so it is still in progress when the run starts.
        var backlog = await UploadAsync("backlog.md", string.Join(" ", Enumerable.Range(0, 1500).Select(i => "word" + i)));
        for (var i = 0; i < 12; i++)
        {
            using var created = await Http.PostAsync("/v1/vector_stores", new StringContent($$"""{"file_ids":["{{backlog}}"]}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        var client = Client();
        var file = await UploadAsync("late.md", "The late ferry is named Kittiwake.");
        var assistant = (await client.CreateAssistantAsync("local-chat", new AssistantCreationOptions { Tools = { ToolDefinition.CreateFileSearch() } })).Value;
        var thread = (await client.CreateThreadAsync(new ThreadCreationOptions
        {
            InitialMessages =
            {
                new ThreadInitializationMessage(MessageRole.User, [MessageContent.FromText("What is the late ferry called? Kittiwake")])
                {
                    Attachments = { new MessageCreationAttachment(file, [ToolDefinition.CreateFileSearch()]) },
                },
            },
        })).Value;
        var vectorStoreId = Assert.Single(thread.ToolResources.FileSearch.VectorStoreIds);
        var run = (await client.CreateRunAsync(thread.Id, assistant.Id)).Value;
        Assert.Equal("in_progress", (await GetJsonAsync($"/v1/vector_stores/{vectorStoreId}/files/{file}")).GetProperty("status").GetString());

        run = await PollAsync(client, run);
        Assert.Equal(RunStatus.Completed, run.Status);
        var steps = await GetJsonAsync($"/v1/threads/{thread.Id}/runs/{run.Id}/steps?order=asc");
        var results = steps.GetProperty("data")[0].GetProperty("step_details").GetProperty("tool_calls")[0].GetProperty("file_search").GetProperty("results");
        Assert.Equal(file, results[0].GetProperty("file_id").GetString());
        Assert.Contains("Kittiwake", Encoding.UTF8.GetString(fixture.Local.Calls[""].Body.Span), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_and_run_and_additional_messages_attach_files_to_the_thread()
    {
        var file = await UploadAsync("orchard.md", "The orchard gate code is pomegranate.");
        var assistant = JsonElement.Parse(await (await Http.PostAsync("/v1/assistants", new StringContent(
            """{"model":"local-chat","tools":[{"type":"file_search"}]}""", Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync()).GetProperty("id").GetString();

        var (status, run) = await PostAsync("/v1/threads/runs", $$$"""
            {"assistant_id":"{{{assistant}}}","thread":{"messages":[{"role":"user","content":"gate code? pomegranate","attachments":[{"file_id":"{{{file}}}","tools":[{"type":"file_search"}]}]}]}}
            """);
        Assert.True(status == HttpStatusCode.OK, run.GetRawText());
        var threadId = run.GetProperty("thread_id").GetString()!;
        var thread = await GetJsonAsync("/v1/threads/" + threadId);
        var vectorStoreId = thread.GetProperty("tool_resources").GetProperty("file_search").GetProperty("vector_store_ids")[0].GetString()!;
        var client = Client();
        var done = await PollAsync(client, (await client.GetRunAsync(threadId, run.GetProperty("id").GetString()!)).Value);
        Assert.Equal(RunStatus.Completed, done.Status);
        Assert.Contains("pomegranate", Encoding.UTF8.GetString(fixture.Local.Calls[""].Body.Span), StringComparison.Ordinal);

        // A run's additional message adds its file to the same store.
        var other = await UploadAsync("shed.md", "The shed key hangs by the door.");
        (status, run) = await PostAsync($"/v1/threads/{threadId}/runs", $$"""
            {"assistant_id":"{{assistant}}","additional_messages":[{"role":"user","content":"shed key?","attachments":[{"file_id":"{{other}}","tools":[{"type":"file_search"}]}]}]}
            """);
        Assert.True(status == HttpStatusCode.OK, run.GetRawText());
        Assert.Equal(RunStatus.Completed, (await PollAsync(client, (await client.GetRunAsync(threadId, run.GetProperty("id").GetString()!)).Value)).Status);
        Assert.Equal(vectorStoreId, (await GetJsonAsync("/v1/threads/" + threadId)).GetProperty("tool_resources").GetProperty("file_search").GetProperty("vector_store_ids")[0].GetString());
        var files = await GetJsonAsync($"/v1/vector_stores/{vectorStoreId}/files");
        Assert.Equal(2, files.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task An_attachment_without_tools_is_kept_on_the_message_and_makes_no_vector_store()
    {
        var file = await UploadAsync("plain.txt", "Nothing to search here.");
        var (status, thread) = await PostAsync("/v1/threads", $$"""{"messages":[{"role":"user","content":"hi","attachments":[{"file_id":"{{file}}","tools":[]}]}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("{}", thread.GetProperty("tool_resources").GetRawText());
        var messages = await GetJsonAsync($"/v1/threads/{thread.GetProperty("id").GetString()}/messages");
        Assert.Equal($$"""[{"file_id":"{{file}}","tools":[]}]""", messages.GetProperty("data")[0].GetProperty("attachments").GetRawText());
    }

    [Fact]
    public async Task Bad_attachments_get_openais_errors_and_create_nothing()
    {
        var file = await UploadAsync("ok.md", "fine");
        var (_, thread) = await PostAsync("/v1/threads", "{}");
        var threadId = thread.GetProperty("id").GetString();
        var before = (await GetJsonAsync("/v1/vector_stores?limit=100")).GetProperty("data").GetArrayLength();

        async Task ExpectAsync(string path, string body, HttpStatusCode status, string param, string? code)
        {
            using var response = await Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            await ErrorAssert.IsOpenAIErrorAsync(response, status, param: param, code: code);
        }

        await ExpectAsync("/v1/threads", """{"messages":[{"role":"user","content":"x","attachments":[{"file_id":"file-missing","tools":[{"type":"file_search"}]}]}]}""",
            HttpStatusCode.NotFound, "messages[0].attachments[0].file_id", null);
        await ExpectAsync($"/v1/threads/{threadId}/messages", $$"""{"role":"user","content":"x","attachments":[{"file_id":"{{file}}","tools":[{"type":"file_search"}]},{"file_id":"file-gone","tools":[]}]}""",
            HttpStatusCode.NotFound, "attachments[1].file_id", null);
        await ExpectAsync($"/v1/threads/{threadId}/messages", $$"""{"role":"user","content":"x","attachments":[{"file_id":"{{file}}","tools":[{"type":"code_interpreter"}]}]}""",
            HttpStatusCode.BadRequest, "attachments[0].tools[0].type", "unsupported_value");
        await ExpectAsync($"/v1/threads/{threadId}/messages", $$"""{"role":"user","content":"x","attachments":[{"file_id":"{{file}}","tools":[{"type":"web_search"}]}]}""",
            HttpStatusCode.BadRequest, "attachments[0].tools[0].type", "invalid_value");
        await ExpectAsync($"/v1/threads/{threadId}/messages", $$"""{"role":"user","content":"x","attachments":[{"file_id":"{{file}}"}]}""",
            HttpStatusCode.BadRequest, "attachments[0].tools", "missing_required_parameter");
        await ExpectAsync($"/v1/threads/{threadId}/messages", """{"role":"user","content":"x","attachments":[{"tools":[]}]}""",
            HttpStatusCode.BadRequest, "attachments[0].file_id", "missing_required_parameter");
        await ExpectAsync($"/v1/threads/{threadId}/messages", """{"role":"user","content":"x","attachments":{}}""",
            HttpStatusCode.BadRequest, "attachments", "invalid_type");
        var assistant = JsonElement.Parse(await (await Http.PostAsync("/v1/assistants", new StringContent(
            """{"model":"local-chat","tools":[{"type":"file_search"}]}""", Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync()).GetProperty("id").GetString();
        await ExpectAsync("/v1/threads/runs", $$$"""{"assistant_id":"{{{assistant}}}","thread":{"messages":[{"role":"user","content":"x","attachments":[{"file_id":"file-missing","tools":[]}]}]}}""",
            HttpStatusCode.NotFound, "thread.messages[0].attachments[0].file_id", null);
        await ExpectAsync($"/v1/threads/{threadId}/runs", $$"""{"assistant_id":"{{assistant}}","additional_messages":[{"role":"user","content":"x","attachments":[{"file_id":"file-missing","tools":[{"type":"file_search"}]}]}]}""",
            HttpStatusCode.NotFound, "additional_messages[0].attachments[0].file_id", null);

        // Nothing was written: the thread has no message and no run, and no vector store was made.
        Assert.Equal(0, (await GetJsonAsync($"/v1/threads/{threadId}/messages")).GetProperty("data").GetArrayLength());
        Assert.Equal(0, (await GetJsonAsync($"/v1/threads/{threadId}/runs")).GetProperty("data").GetArrayLength());
        Assert.Equal("{}", (await GetJsonAsync("/v1/threads/" + threadId)).GetProperty("tool_resources").GetRawText());
        Assert.Equal(before, (await GetJsonAsync("/v1/vector_stores?limit=100")).GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Messages_attaching_files_at_once_to_a_thread_without_a_store_share_one_new_store()
    {
        var files = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            files.Add(await UploadAsync($"race{i}.md", $"Race note {i}. The password is race{i}word."));
        }

        var (created, thread) = await PostAsync("/v1/threads", "{}");
        Assert.Equal(HttpStatusCode.OK, created);
        var threadId = thread.GetProperty("id").GetString()!;
        var before = (await GetJsonAsync("/v1/vector_stores?limit=100")).GetProperty("data").GetArrayLength();

        // Every request reads the thread without a store, so each would make one: only one may be recorded.
        var posts = await Task.WhenAll(files.Select(file => PostAsync($"/v1/threads/{threadId}/messages",
            $$"""{"role":"user","content":"note","attachments":[{"file_id":"{{file}}","tools":[{"type":"file_search"}]}]}""")));
        Assert.All(posts, p => Assert.Equal(HttpStatusCode.OK, p.Status));

        var ids = (await GetJsonAsync("/v1/threads/" + threadId)).GetProperty("tool_resources").GetProperty("file_search").GetProperty("vector_store_ids");
        var vectorStoreId = Assert.Single(ids.EnumerateArray()).GetString();
        var inStore = (await GetJsonAsync($"/v1/vector_stores/{vectorStoreId}/files?limit=100")).GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString());
        Assert.Equal(files.Order(StringComparer.Ordinal), inStore.Order(StringComparer.Ordinal));
        Assert.Equal(before + 1, (await GetJsonAsync("/v1/vector_stores?limit=100")).GetProperty("data").GetArrayLength());
    }
}
