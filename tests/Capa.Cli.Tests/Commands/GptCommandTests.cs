using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;
using Capa.Protocol;
using Capa.Server.Embeddings;
using Capa.Server.Hosting;
using Capa.Server.Routing;
using Capa.TestModels.Embeddings;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Capa.Cli.Tests.Commands;

/// <summary>
/// <c>capa gpt</c> against a real Capa server: knowledge files are uploaded and indexed by a tiny random-weight encoder,
/// the assistant's runs search them, and a scripted model answers with the search context it was given, so the
/// answer shows what the GPT retrieved.
/// </summary>
public sealed class GptCommandTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("capa-gpt-").FullName;
    private WebApplication _app = null!;
    private string _baseUrl = null!;

    public async Task InitializeAsync()
    {
        var models = Path.Combine(_root, "models");
        BertEncoderWriter.Write(new BertEncoderSpec { Seed = 2 }, Path.Combine(models, "test", "bert-tiny"));
        _app = CapaServer.Build(
            new CapaServerOptions { Urls = ["http://127.0.0.1:0"], ModelsDirectory = models, StateDirectory = Path.Combine(_root, "state"), GetEnvironmentVariable = _ => null },
            b =>
            {
                b.Logging.ClearProviders();
                // Answers with the developer turns the run added (the file search context), or says there were none.
                b.Services.AddChatProvider(new AnsweringChatProvider(request =>
                    string.Join(" ", request.Messages.Where(m => m.Role == ChatRole.Developer).Select(m => m.GetText())) is { Length: > 0 } context ? context : "no context"));
                b.Services.AddSingleton(new EmbeddingOptions { ModelsDirectory = models, CreateTinyWhenEmpty = false, IntraOpThreads = 1 });
            });
        await _app.StartAsync();
        _baseUrl = CapaServer.GetAddresses(_app).Single().TrimEnd('/') + "/v1";
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Task<(int ExitCode, string Output)> RunAsync(params string[] args) =>
        CommandHarness.RunAsync(GptCommand.Create(), [.. args, "--base-url", _baseUrl, "--api-key", "unused"]);

    [Fact]
    public async Task Create_list_chat_and_remove_a_gpt_with_a_knowledge_file()
    {
        var note = Path.Combine(_root, "英雄联盟.md");
        await File.WriteAllTextAsync(note, "Baron Nashor spawns at twenty minutes. The codeword is heliotrope.");

        var (created, createdOut) = await RunAsync("create", "--name", "英雄联盟", "--instructions", "你是英雄联盟的助手。", "--file", note, "--model", "echo");
        Assert.True(created == 0, createdOut);
        var id = createdOut.Trim();
        Assert.StartsWith("asst_", id, StringComparison.Ordinal);

        var (listed, listOut) = await RunAsync("list");
        Assert.Equal(0, listed);
        Assert.Contains(id, listOut, StringComparison.Ordinal);
        Assert.Contains("英雄联盟", listOut, StringComparison.Ordinal);
        Assert.Contains("vs_", listOut, StringComparison.Ordinal);

        // By name: the run searched the file, the model was given its text, and the answer cites the file by name.
        var (chatted, chatOut) = await RunAsync("chat", "英雄联盟", "--message", "What is the codeword?");
        Assert.True(chatted == 0, chatOut);
        Assert.Contains("heliotrope", chatOut, StringComparison.Ordinal);
        Assert.Contains("[1] 英雄联盟.md", chatOut, StringComparison.Ordinal);

        var (removed, removeOut) = await RunAsync("rm", id);
        Assert.True(removed == 0, removeOut);
        var (_, emptyOut) = await RunAsync("list");
        Assert.Contains("No GPTs yet", emptyOut, StringComparison.Ordinal);
        using var http = new HttpClient();
        Assert.DoesNotContain("\"vs_", await http.GetStringAsync(_baseUrl + "/vector_stores"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_gpts_and_missing_files_are_clear_errors()
    {
        var (missing, _) = await RunAsync("create", "--name", "x", "--file", Path.Combine(_root, "absent.md"));
        Assert.Equal(1, missing);
        var (unknown, unknownOut) = await RunAsync("chat", "nobody", "--message", "hi");
        Assert.Equal(1, unknown);
        Assert.DoesNotContain("asst_", unknownOut, StringComparison.Ordinal);
    }
}
