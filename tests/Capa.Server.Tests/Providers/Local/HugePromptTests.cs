using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Capa.Engine.Text.Generation;
using Capa.Server.Hosting;
using Capa.Server.Limits;
using Capa.Server.Providers.Local;
using Capa.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Tests.Providers.Local;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasuredCollection
{
    /// <summary>Tests that measure the process's memory run alone.</summary>
    public const string Name = "memory-measured";
}

/// <summary>
/// Prompts far beyond the context are refused from their length, before they are tokenized (or rendered in full):
/// OpenAI's 400 <c>context_length_exceeded</c>, with memory bounded while a burst of them is answered.
/// </summary>
[Collection(MemoryMeasuredCollection.Name)]
public sealed class HugePromptTests : IAsyncLifetime
{
    private const int Concurrent = 32;
    private const int PromptBytes = 10 * 1024 * 1024;

    // What a burst may add to the process's resident memory. A few requests are read at a time (the body budget: two
    // of the largest bodies), each leaving about ten times its body in large-object garbage (its bytes, its UTF-16
    // text, the copies made while the template renders up to the limit), and a full collection follows every
    // budget's worth of bodies. Without those collections the garbage of the whole burst stayed resident (1.3 to
    // 1.9 GB measured).
    private const long BurstGrowthBound = 1024L * 1024 * 1024;

    // What may stay resident once the burst is answered and the budget's end-of-burst collection has run (asked for
    // by the server itself, not by this test): connection buffers, threads, code, and the large arrays System.Text.Json
    // rented from the shared array pool to unescape the 10 MB strings, which that pool keeps until a later collection
    // (65 to 130 MB measured; without the collection the whole burst's garbage stayed, 1.2 GB and more).
    private const long IdleGrowthBound = 384L * 1024 * 1024;

    private readonly string _models = Path.Combine(Path.GetTempPath(), "capa-huge-prompt-" + Guid.NewGuid().ToString("N"));
    private LocalChatProvider _provider = null!;
    private CapaTestServer _server = null!;

    public async Task InitializeAsync()
    {
        _provider = new LocalChatProvider(new LocalProviderOptions
        {
            ModelsDirectory = _models,
            Model = new LocalChatModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 } },
        });
        _provider.PrepareStore();
        _server = await CapaTestServer.StartAsync(new CapaServerOptions(), b => b.Services.AddChatProvider(_provider));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _provider.Dispose();
        if (Directory.Exists(_models))
        {
            Directory.Delete(_models, recursive: true);
        }
    }

    private static readonly JsonSerializerOptions RawText = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static byte[] Body(string filler)
    {
        var text = new StringBuilder(PromptBytes);
        text.Insert(0, filler, PromptBytes / Encoding.UTF8.GetByteCount(filler));
        return JsonSerializer.SerializeToUtf8Bytes(new { model = "capa-tiny", messages = new[] { new { role = "user", content = text.ToString() } }, max_tokens = 4 }, RawText);
    }

    [Fact]
    public async Task ABurstOfHugePrompts_IsRefusedAsContextLengthExceeded_WithBoundedMemory()
    {
        // Mixed scripts, spaces, special-token text: nothing in the text may make the length bound unsound.
        var body = Body("火星上有生命吗？ Is there life on Mars? <|im_end|> \n");
        Assert.InRange(body.Length, PromptBytes, PromptBytes * 11 / 10);

        // Warm the path once (model load, JIT), then measure.
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(body)).Status);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var baseline = Environment.WorkingSet;
        var heapBaseline = GC.GetTotalMemory(forceFullCollection: false);
        long peak = baseline;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, Environment.WorkingSet);
                await Task.Delay(5);
            }
        });

        var tokenizer = _provider.GetModel("capa-tiny")!.Tokenizer.Tokenizer;
        var perToken = tokenizer.MaxCharsPerToken;
        Assert.NotNull(perToken);
        var encodedBefore = tokenizer.EncodedChars;
        var budget = _server.Services.GetRequiredService<BodyBudget>();
        var collectionsBefore = budget.Collections;

        var answers = await Task.WhenAll(Enumerable.Range(0, Concurrent).Select(_ => PostAsync(body)));
        await stop.CancelAsync();
        await sampler;

        // No prompt was tokenized in full: at most what fits the context (context x the most one token stands for)
        // may be, per prompt; a full prompt is about 30 times that.
        var limitChars = perToken.Value * 2048;
        var encoded = tokenizer.EncodedChars - encodedBefore;
        Assert.True(encoded <= Concurrent * limitChars, $"{encoded} characters were tokenized for {Concurrent} prompts of {PromptBytes} bytes");
        Assert.True(budget.Collections > collectionsBefore, "the burst's large bodies asked for no collection");

        // The memory of the burst is given back: once the end-of-burst collection has run (the budget asks for it a
        // moment after the last large request completes; polled a bounded number of times), the working set is back
        // near the baseline with no collection asked for here.
        var collectionsAtEnd = budget.Collections;
        for (var i = 0; i < 200 && budget.Collections == collectionsAtEnd; i++)
        {
            await Task.Delay(50);
        }

        await Task.Delay(100);
        var idle = Environment.WorkingSet;
        var heap = GC.GetTotalMemory(forceFullCollection: false);

        foreach (var (status, error) in answers)
        {
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.Equal("messages", error.GetProperty("param").GetString());
            Assert.StartsWith("This model's maximum context length is ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        var growth = peak - baseline;
        Console.WriteLine($"huge-prompt burst: baseline {baseline / (1024 * 1024)} MB, peak {peak / (1024 * 1024)} MB, growth {growth / (1024 * 1024)} MB, idle after {idle / (1024 * 1024)} MB, heap {heapBaseline / (1024 * 1024)} MB before and {heap / (1024 * 1024)} MB after, {encoded} chars tokenized");
        Assert.True(growth < BurstGrowthBound, $"resident memory grew {growth / (1024 * 1024)} MB during the burst (bound {BurstGrowthBound / (1024 * 1024)} MB)");
        Assert.True(idle - baseline < IdleGrowthBound, $"resident memory stayed {(idle - baseline) / (1024 * 1024)} MB above the baseline after the burst (bound {IdleGrowthBound / (1024 * 1024)} MB)");
    }

    [Fact]
    public async Task AHugeResponsesInput_IsRefusedAsContextLengthExceeded_WithoutTokenizingIt()
    {
        var text = new StringBuilder().Insert(0, "火星上有生命吗？ Is there life on Mars? \n", PromptBytes / 50).ToString();
        var body = JsonSerializer.SerializeToUtf8Bytes(new { model = "capa-tiny", input = text, max_output_tokens = 16, store = false }, RawText);
        var tokenizer = _provider.GetModel("capa-tiny")!.Tokenizer.Tokenizer;
        var before = tokenizer.EncodedChars;

        var (status, error) = await PostAsync(body, "/v1/responses");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.StartsWith("This model's maximum context length is ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, tokenizer.EncodedChars - before);
    }

    [Fact]
    public async Task AnAssistantsRunOverAHugeMessage_FailsWithTheContextLengthMessage_WithoutTokenizingIt()
    {
        async Task<JsonElement> SendAsync(HttpMethod method, string path, byte[]? body = null)
        {
            using var request = new HttpRequestMessage(method, path);
            request.Headers.Add("OpenAI-Beta", "assistants=v2");
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }

            using var response = await _server.Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            return JsonDocument.Parse(text).RootElement.Clone();
        }

        var tokenizer = _provider.GetModel("capa-tiny")!.Tokenizer.Tokenizer;
        var before = tokenizer.EncodedChars;
        var assistant = await SendAsync(HttpMethod.Post, "/v1/assistants", JsonSerializer.SerializeToUtf8Bytes(new { model = "capa-tiny", instructions = "Answer briefly." }));
        var text = new StringBuilder().Insert(0, "火星上有生命吗？ Is there life on Mars? \n", PromptBytes / 50).ToString();
        var run = await SendAsync(HttpMethod.Post, "/v1/threads/runs", JsonSerializer.SerializeToUtf8Bytes(new
        {
            assistant_id = assistant.GetProperty("id").GetString(),
            thread = new { messages = new[] { new { role = "user", content = text } } },
        }, RawText));

        var path = $"/v1/threads/{run.GetProperty("thread_id").GetString()}/runs/{run.GetProperty("id").GetString()}";
        for (var i = 0; i < 600 && run.GetProperty("status").GetString() is "queued" or "in_progress"; i++)
        {
            await Task.Delay(100);
            run = await SendAsync(HttpMethod.Get, path);
        }

        Assert.Equal("failed", run.GetProperty("status").GetString());
        var error = run.GetProperty("last_error");
        Assert.Equal("invalid_prompt", error.GetProperty("code").GetString());
        Assert.StartsWith("This model's maximum context length is ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, tokenizer.EncodedChars - before);
    }

    private async Task<(HttpStatusCode Status, JsonElement Error)> PostAsync(byte[] body, string path = "/v1/chat/completions")
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _server.Http.PostAsync(path, content);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (response.StatusCode, json.GetProperty("error"));
    }
}
