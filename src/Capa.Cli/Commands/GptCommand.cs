using System.ClientModel;
using System.CommandLine;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Assistants;
using OpenAI.Files;
using OpenAI.VectorStores;

#pragma warning disable OPENAI001 // The Assistants and vector store clients are marked experimental.

namespace Capa.Cli.Commands;

/// <summary>
/// <c>capa gpt create|list|chat|rm</c>: custom GPTs as stored assistants. <c>create</c> uploads the knowledge files,
/// builds a vector store of them and creates an assistant with <c>file_search</c> over it; <c>chat</c> talks to one by
/// name or id, streaming the answer and listing the files it cites; <c>rm</c> deletes the assistant and what
/// <c>create</c> made for it. Everything goes through the OpenAI API, so it works against any server that has it.
/// </summary>
internal static class GptCommand
{
    internal const string DefaultModel = "gpt-4o";

    /// <summary>Metadata key marking the vector store <c>create</c> made, so <c>rm</c> removes only that.</summary>
    internal const string VectorStoreKey = "capa_gpt_vector_store";

    /// <summary>How long <c>create</c> waits for the files to be indexed.</summary>
    private static readonly TimeSpan IngestionTimeout = TimeSpan.FromMinutes(10);

    public static Command Create() => Create(TimeProvider.System);

    /// <summary>The command on <paramref name="time"/>, the clock that bounds how long <c>create</c> waits for indexing.</summary>
    internal static Command Create(TimeProvider time)
    {
        var command = new Command("gpt", "Custom GPTs: assistants with instructions and knowledge files (file_search).");
        command.Subcommands.Add(CreateCommand(time));
        command.Subcommands.Add(ListCommand());
        command.Subcommands.Add(ChatCommand());
        command.Subcommands.Add(RemoveCommand());
        return command;
    }

    private static Command CreateCommand(TimeProvider time)
    {
        var name = new Option<string>("--name", "-n") { Description = "The GPT's name.", Required = true };
        var instructions = new Option<string>("--instructions", "-i") { Description = "What the GPT does and how it answers.", DefaultValueFactory = _ => "" };
        var files = new Option<string[]>("--file", "-f") { Description = "A knowledge file (repeatable): text, Markdown, HTML, JSON, CSV, code, PDF, Word.", AllowMultipleArgumentsPerToken = false };
        var model = new Option<string>("--model", "-m") { Description = "Model id or alias.", DefaultValueFactory = _ => DefaultModel };
        var baseUrl = ClientConnection.BaseUrlOption();
        var apiKey = ClientConnection.ApiKeyOption();
        var command = new Command("create", "Creates a GPT: uploads the files, indexes them in a vector store, creates the assistant; prints its id.")
        {
            name, instructions, files, model, baseUrl, apiKey,
        };
        command.SetAction((parse, ct) => CliRunner.RunAsync(async () =>
        {
            var paths = parse.GetValue(files) ?? [];
            foreach (var path in paths)
            {
                if (!File.Exists(path))
                {
                    throw new CliException($"No file at '{path}'.");
                }
            }

            var client = ClientConnection.Resolve(parse.GetValue(baseUrl), parse.GetValue(apiKey)).CreateClient();
            var output = parse.InvocationConfiguration.Output;
            var gptName = parse.GetValue(name)!;
            await CallAsync(async () =>
            {
                var options = new AssistantCreationOptions { Name = gptName, Instructions = parse.GetValue(instructions), Tools = { new FileSearchToolDefinition() } };
                if (paths.Length > 0)
                {
                    var vectorStoreId = await IndexAsync(client, gptName, paths, output, time, ct).ConfigureAwait(false);
                    options.ToolResources = new ToolResources { FileSearch = new FileSearchToolResources { VectorStoreIds = { vectorStoreId } } };
                    options.Metadata[VectorStoreKey] = vectorStoreId;
                }

                Assistant assistant = await client.GetAssistantClient().CreateAssistantAsync(parse.GetValue(model) ?? DefaultModel, options, ct).ConfigureAwait(false);
                output.WriteLine(assistant.Id);
            }).ConfigureAwait(false);
        }, parse.InvocationConfiguration.Error, TerminalText.IsTerminal));
        return command;
    }

    /// <summary>Uploads the files, builds a vector store of them and waits until it is indexed; returns its id.</summary>
    private static async Task<string> IndexAsync(OpenAIClient client, string name, string[] paths, TextWriter output, TimeProvider time, CancellationToken ct)
    {
        var fileClient = client.GetOpenAIFileClient();
        var fileIds = new List<string>();
        foreach (var path in paths)
        {
            OpenAIFile file;
            await using (var stream = File.OpenRead(path))
            {
                file = await fileClient.UploadFileAsync(stream, Path.GetFileName(path), FileUploadPurpose.Assistants, ct).ConfigureAwait(false);
            }

            fileIds.Add(file.Id);
        }

        var vectorStores = client.GetVectorStoreClient();
        var creation = new VectorStoreCreationOptions { Name = name };
        foreach (var id in fileIds)
        {
            creation.FileIds.Add(id);
        }

        VectorStore store = await vectorStores.CreateVectorStoreAsync(creation, ct).ConfigureAwait(false);
        var deadline = time.GetUtcNow() + IngestionTimeout;
        while (store.Status == VectorStoreStatus.InProgress)
        {
            if (time.GetUtcNow() > deadline)
            {
                throw new CliException($"The files were still being indexed after {IngestionTimeout.TotalMinutes:0} minutes (vector store {store.Id}).");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), ct).ConfigureAwait(false);
            store = await vectorStores.GetVectorStoreAsync(store.Id, ct).ConfigureAwait(false);
        }

        if (store.FileCounts.Failed > 0)
        {
            // Say which files could not be read; the GPT is still made from the others.
            await foreach (var entry in vectorStores.GetVectorStoreFilesAsync(store.Id, cancellationToken: ct).ConfigureAwait(false))
            {
                if (entry.Status == VectorStoreFileStatus.Failed)
                {
                    var index = fileIds.IndexOf(entry.FileId);
                    output.WriteLine($"skipped {(index >= 0 ? paths[index] : entry.FileId)}: {entry.LastError?.Message}");
                }
            }
        }

        return store.Id;
    }

    private static Command ListCommand()
    {
        var baseUrl = ClientConnection.BaseUrlOption();
        var apiKey = ClientConnection.ApiKeyOption();
        var command = new Command("list", "Lists the GPTs (assistants), newest first.") { baseUrl, apiKey };
        command.SetAction((parse, ct) => CliRunner.RunAsync(async () =>
        {
            var client = ClientConnection.Resolve(parse.GetValue(baseUrl), parse.GetValue(apiKey)).CreateClient().GetAssistantClient();
            var output = parse.InvocationConfiguration.Output;
            await CallAsync(async () =>
            {
                var rows = new List<string[]>();
                await foreach (var assistant in client.GetAssistantsAsync(new AssistantCollectionOptions { Order = AssistantCollectionOrder.Descending }, ct).ConfigureAwait(false))
                {
                    var files = assistant.ToolResources?.FileSearch?.VectorStoreIds.Count ?? 0;
                    rows.Add([assistant.Id, assistant.Name ?? "", assistant.Model, files == 0 ? "-" : string.Join(",", assistant.ToolResources!.FileSearch.VectorStoreIds)]);
                }

                if (rows.Count == 0)
                {
                    output.WriteLine("No GPTs yet: capa gpt create --name NAME --instructions TEXT --file FILE");
                    return;
                }

                rows.Insert(0, ["ID", "NAME", "MODEL", "VECTOR STORES"]);
                var widths = Enumerable.Range(0, 4).Select(c => rows.Max(r => r[c].Length)).ToArray();
                foreach (var row in rows)
                {
                    output.WriteLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
                }
            }).ConfigureAwait(false);
        }));
        return command;
    }

    private static Command ChatCommand()
    {
        var gpt = new Argument<string>("gpt") { Description = "The GPT's name or id (asst_...)." };
        var message = new Option<string[]>("--message", "-m") { Description = "Send this message instead of reading lines from the terminal (repeatable: one turn each)." };
        var baseUrl = ClientConnection.BaseUrlOption();
        var apiKey = ClientConnection.ApiKeyOption();
        var command = new Command("chat", "Chats with a GPT: each line is a turn; the answer streams, then the files it cites. Ctrl-D or /exit ends.")
        {
            gpt, message, baseUrl, apiKey,
        };
        command.SetAction((parse, ct) => CliRunner.RunAsync(async () =>
        {
            var client = ClientConnection.Resolve(parse.GetValue(baseUrl), parse.GetValue(apiKey)).CreateClient();
            var assistants = client.GetAssistantClient();
            var output = parse.InvocationConfiguration.Output;
            await CallAsync(async () =>
            {
                var assistant = await FindAsync(assistants, parse.GetValue(gpt)!, ct).ConfigureAwait(false);
                AssistantThread thread = await assistants.CreateThreadAsync(cancellationToken: ct).ConfigureAwait(false);
                var scripted = parse.GetValue(message) is { Length: > 0 } given ? new Queue<string>(given) : null;
                if (scripted is null)
                {
                    output.WriteLine($"{assistant.Name ?? assistant.Id} ({assistant.Model}). Ctrl-D or /exit ends.");
                }

                var fileNames = new Dictionary<string, string>(StringComparer.Ordinal);
                while (true)
                {
                    string? line;
                    if (scripted is not null)
                    {
                        line = scripted.Count > 0 ? scripted.Dequeue() : null;
                    }
                    else
                    {
                        output.Write("> ");
                        line = Console.In.ReadLine();
                    }

                    if (line is null || line.Trim() == "/exit")
                    {
                        return;
                    }

                    if (line.Trim().Length == 0)
                    {
                        continue;
                    }

                    await TurnAsync(client, assistants, assistant, thread, line, fileNames, output, ct).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }));
        return command;
    }

    /// <summary>One turn: the message joins the thread, a streamed run answers it, then the cited files are listed.</summary>
    private static async Task TurnAsync(
        OpenAIClient client, AssistantClient assistants, Assistant assistant, AssistantThread thread, string text, Dictionary<string, string> fileNames, TextWriter output, CancellationToken ct)
    {
        await assistants.CreateMessageAsync(thread.Id, MessageRole.User, [MessageContent.FromText(text)], cancellationToken: ct).ConfigureAwait(false);
        ThreadRun? final = null;
        var updates = await assistants.CreateRunStreamingAsync(thread.Id, assistant.Id, cancellationToken: ct).ConfigureAwait(false);
        await foreach (var update in ((IAsyncEnumerable<StreamingUpdate>)updates).ConfigureAwait(false))
        {
            switch (update)
            {
                case MessageContentUpdate content when content.Text is { Length: > 0 } delta:
                    await output.WriteAsync(delta).ConfigureAwait(false);
                    await output.FlushAsync(ct).ConfigureAwait(false);
                    break;
                case RunUpdate run when run.Value.Status.IsTerminal || run.Value.Status == RunStatus.RequiresAction:
                    final = run.Value;
                    break;
            }
        }

        output.WriteLine();
        if (final is null)
        {
            throw new CliException("the run's stream ended before the run finished.");
        }

        if (final.Status == RunStatus.RequiresAction)
        {
            await assistants.CancelRunAsync(thread.Id, final.Id, ct).ConfigureAwait(false);
            throw new CliException("the GPT asked to call a function; capa gpt chat answers only GPTs without function tools.");
        }

        if (final.Status != RunStatus.Completed)
        {
            throw new CliException($"the run ended {final.Status}: {final.LastError?.Message ?? final.IncompleteDetails?.Reason?.ToString() ?? "no reason given"}");
        }

        var cited = new List<string>();
        await foreach (var reply in assistants.GetMessagesAsync(thread.Id, new MessageCollectionOptions { Order = MessageCollectionOrder.Descending, PageSizeLimit = 1 }, ct).ConfigureAwait(false))
        {
            foreach (var annotation in reply.Content.SelectMany(c => c.TextAnnotations))
            {
                if (annotation.InputFileId is { Length: > 0 } fileId && !cited.Contains(fileId))
                {
                    cited.Add(fileId);
                }
            }

            break;
        }

        for (var i = 0; i < cited.Count; i++)
        {
            if (!fileNames.TryGetValue(cited[i], out var fileName))
            {
                try
                {
                    OpenAIFile file = await client.GetOpenAIFileClient().GetFileAsync(cited[i], ct).ConfigureAwait(false);
                    fileName = file.Filename;
                }
                catch (ClientResultException)
                {
                    fileName = cited[i]; // Deleted since: the id still says where the answer came from.
                }

                fileNames[cited[i]] = fileName;
            }

            output.WriteLine($"[{i + 1}] {fileName}");
        }
    }

    /// <summary>The assistant with this id, else the newest with this name.</summary>
    private static async Task<Assistant> FindAsync(AssistantClient client, string nameOrId, CancellationToken ct)
    {
        if (nameOrId.StartsWith("asst_", StringComparison.Ordinal))
        {
            return await client.GetAssistantAsync(nameOrId, ct).ConfigureAwait(false);
        }

        await foreach (var assistant in client.GetAssistantsAsync(new AssistantCollectionOptions { Order = AssistantCollectionOrder.Descending }, ct).ConfigureAwait(false))
        {
            if (string.Equals(assistant.Name, nameOrId, StringComparison.Ordinal))
            {
                return assistant;
            }
        }

        throw new CliException($"No GPT named '{nameOrId}': see capa gpt list.");
    }

    private static Command RemoveCommand()
    {
        var gpt = new Argument<string>("gpt") { Description = "The GPT's name or id (asst_...)." };
        var baseUrl = ClientConnection.BaseUrlOption();
        var apiKey = ClientConnection.ApiKeyOption();
        var command = new Command("rm", "Deletes a GPT, with the vector store and files capa gpt create made for it.") { gpt, baseUrl, apiKey };
        command.SetAction((parse, ct) => CliRunner.RunAsync(async () =>
        {
            var client = ClientConnection.Resolve(parse.GetValue(baseUrl), parse.GetValue(apiKey)).CreateClient();
            var assistants = client.GetAssistantClient();
            var output = parse.InvocationConfiguration.Output;
            await CallAsync(async () =>
            {
                var assistant = await FindAsync(assistants, parse.GetValue(gpt)!, ct).ConfigureAwait(false);
                if (assistant.Metadata.TryGetValue(VectorStoreKey, out var vectorStoreId) && vectorStoreId.Length > 0)
                {
                    var vectorStores = client.GetVectorStoreClient();
                    var fileIds = new List<string>();
                    try
                    {
                        await foreach (var entry in vectorStores.GetVectorStoreFilesAsync(vectorStoreId, cancellationToken: ct).ConfigureAwait(false))
                        {
                            fileIds.Add(entry.FileId);
                        }

                        await vectorStores.DeleteVectorStoreAsync(vectorStoreId, ct).ConfigureAwait(false);
                    }
                    catch (ClientResultException e) when (e.Status == 404)
                    {
                        // Already gone.
                    }

                    foreach (var fileId in fileIds)
                    {
                        try
                        {
                            await client.GetOpenAIFileClient().DeleteFileAsync(fileId, ct).ConfigureAwait(false);
                        }
                        catch (ClientResultException e) when (e.Status == 404)
                        {
                            // Already gone.
                        }
                    }
                }

                await assistants.DeleteAssistantAsync(assistant.Id, ct).ConfigureAwait(false);
                output.WriteLine($"deleted {assistant.Name ?? assistant.Id} ({assistant.Id})");
            }).ConfigureAwait(false);
        }));
        return command;
    }

    /// <summary>Runs API calls, turning the server's errors into one line for the terminal.</summary>
    private static async Task CallAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (ClientResultException e)
        {
            throw new CliException($"the server answered {e.Status}: {ErrorMessage(e)}");
        }
    }

    private static string ErrorMessage(ClientResultException e)
    {
        try
        {
            if (e.GetRawResponse()?.Content is { } content)
            {
                using var document = JsonDocument.Parse(content.ToMemory());
                if (document.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("message", out var message))
                {
                    return message.GetString() ?? e.Message;
                }
            }
        }
        catch (JsonException)
        {
        }

        return e.Message;
    }
}
