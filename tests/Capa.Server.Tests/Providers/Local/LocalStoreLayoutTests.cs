using System.ClientModel;
using System.Net;
using System.Text.Json;
using Capa.Engine.Text.Generation;
using Capa.Models.Store;
using Capa.TestModels;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using OpenAI;
using OpenAI.Chat;

namespace Capa.Server.Tests.Providers.Local;

/// <summary>
/// A models folder as a user lays it out by hand: a model directly in it (<c>NAME/</c>), one an org level deeper
/// (<c>ORG/NAME/</c>), and a folder that is no model. Both models are served under the ids the store lists
/// (what <c>capa list</c> shows), the stray folder is named in the log with the layout expected, and serving writes
/// nothing into the folder.
/// </summary>
public sealed class LocalStoreLayoutTests : IDisposable
{
    private readonly string _models = Path.Combine(Path.GetTempPath(), "capa-layout-" + Guid.NewGuid().ToString("N"));
    private readonly string _cache;

    public LocalStoreLayoutTests()
    {
        _cache = _models + ".cache";
        Directory.CreateDirectory(_models);
    }

    public void Dispose()
    {
        foreach (var directory in new[] { _models, _cache })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task NameAndOrgNameFolders_AreServedUnderTheStoresIds_AndNothingIsWrittenIntoTheFolder()
    {
        Write(Path.Combine(_models, "qwen2-tiny"), seed: 3);
        Write(Path.Combine(_models, "my-org", "llama-ish"), seed: 4);
        Directory.CreateDirectory(Path.Combine(_models, "downloads", "half"));
        await File.WriteAllTextAsync(Path.Combine(_models, "downloads", "half", "tokenizer.json"), "{}");
        var before = Snapshot();
        var logs = new CapturingLoggerProvider();

        await using (var server = await StartAsync(logs))
        {
            // One id per model: what the store lists (capa list) is what /v1/models lists and what requests use.
            var storeIds = new ModelStore(_models).List().Select(m => m.Id).ToList();
            Assert.Equal(["my-org/llama-ish", "qwen2-tiny"], storeIds);
            using var listed = JsonDocument.Parse(await server.Http.GetStringAsync("/v1/models"));
            var servedIds = listed.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
            Assert.All(storeIds, id => Assert.Contains(id, servedIds));
            Assert.DoesNotContain(CapaTiny.ModelId, servedIds);

            foreach (var id in storeIds)
            {
                using var model = await server.Http.GetAsync("/v1/models/" + id);
                Assert.Equal(HttpStatusCode.OK, model.StatusCode);
                ChatCompletion completion = await Chat(server, id).CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 2 });
                Assert.Equal(id, completion.Model);
            }
        }

        Assert.Contains(logs.Lines, l => l.Contains(Path.Combine(_models, "downloads"), StringComparison.Ordinal)
            && l.Contains("ORG/NAME/", StringComparison.Ordinal) && l.StartsWith("Warning", StringComparison.Ordinal));
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task AFolderWithoutChatModels_GetsCapaTinyFromTheCache_AndStaysUntouched()
    {
        Directory.CreateDirectory(Path.Combine(_models, "notes"));
        var before = Snapshot();

        await using (var server = await StartAsync(new CapturingLoggerProvider()))
        {
            ChatCompletion completion = await Chat(server, CapaTiny.ModelId).CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 2 });
            Assert.Equal(CapaTiny.ModelId, completion.Model);
        }

        Assert.Equal(before, Snapshot());
        Assert.True(CapaTiny.IsWritten(_cache));
        Assert.True(Directory.Exists(Path.Combine(_cache, "digests")));
    }

    private static void Write(string directory, ulong seed) =>
        TestModelWriter.Write(new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32], Seed = seed }, directory);

    private async Task<CapaTestServer> StartAsync(CapturingLoggerProvider logs)
    {
        var server = await CapaTestServer.StartAsync(new CapaServerOptions(), builder =>
        {
            builder.Logging.AddProvider(logs);
            builder.Services.AddLocalChatProvider(new LocalProviderOptions
            {
                ModelsDirectory = _models,
                CacheDirectory = _cache,
                Model = new LocalChatModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 } },
            });
        });
        ((LocalChatProvider)server.Services.GetService(typeof(LocalChatProvider))!).PrepareStore();
        return server;
    }

    private static ChatClient Chat(CapaTestServer server, string model) => new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
    {
        Endpoint = new Uri(server.BaseUrl + "/v1"),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    }).GetChatClient(model);

    private List<string> Snapshot() =>
        [.. Directory.EnumerateFileSystemEntries(_models, "*", SearchOption.AllDirectories)
            .Select(p => $"{Path.GetRelativePath(_models, p)} {(File.Exists(p) ? new FileInfo(p).Length : -1)} {File.GetLastWriteTimeUtc(p).Ticks}")
            .Order(StringComparer.Ordinal)];
}
