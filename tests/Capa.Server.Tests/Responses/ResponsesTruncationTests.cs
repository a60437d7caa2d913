using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.Engine.Text.Generation;
using Capa.Protocol;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Routing;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels;

namespace Capa.Server.Tests.Responses;

/// <summary>
/// <c>truncation</c> of the Responses API over a chain of turns (<c>previous_response_id</c>) that outgrows the
/// context: <c>auto</c> drops the earliest turns until the rest fits, <c>disabled</c> (the default) answers OpenAI's
/// 400 <c>context_length_exceeded</c>, and so does <c>auto</c> when the new input alone is too long. Checked against a
/// recording provider whose context is counted in words (to see exactly what the model read) and against the real
/// engine with a random-weight Qwen2 whose context is cut to <see cref="ShortContext"/> positions.
/// </summary>
public sealed class ResponsesTruncationTests : IAsyncLifetime
{
    private const string ShortModel = "test/qwen2-short";
    private const int ShortContext = 256;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-truncation-" + Guid.NewGuid().ToString("N"));
    private readonly WordContextProvider _words = new();
    private LocalChatProvider _local = null!;
    private CapaTestServer _server = null!;

    public async Task InitializeAsync()
    {
        var folder = Path.Combine(_root, "models", "test", "qwen2-short");
        TestModelWriter.Write(new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32], Seed = 5 }, folder);

        // The same weights with a short window, so a few turns overflow it.
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!.AsObject();
        config["max_position_embeddings"] = ShortContext;
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());

        _local = new LocalChatProvider(new LocalProviderOptions
        {
            ModelsDirectory = Path.Combine(_root, "models"),
            CreateTinyModelWhenEmpty = false,
            Model = new LocalChatModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 } },
        });
        _server = await CapaTestServer.StartAsync(
            new CapaServerOptions { StateDirectory = Path.Combine(_root, "state") },
            b =>
            {
                b.Services.AddChatProvider(_words);
                b.Services.AddChatProvider(_local);
            });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _local.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Words(string word, int count) => string.Join(' ', Enumerable.Repeat(word, count));

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(object body)
    {
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await _server.Http.PostAsync("/v1/responses", content);
        return (response.StatusCode, JsonElement.Parse(await response.Content.ReadAsStringAsync()));
    }

    private async Task<string> AnswerAsync(object body)
    {
        var (status, response) = await PostAsync(body);
        Assert.True(status == HttpStatusCode.OK, response.GetRawText());
        Assert.True(response.GetProperty("status").GetString() is "completed" or "incomplete", response.GetRawText());
        return response.GetProperty("id").GetString()!;
    }

    /// <summary>Two stored turns of 10 words each, answered with one word: 21 words, within the 30-word context.</summary>
    private async Task<string> TwoTurnsAsync(string tag)
    {
        var first = await AnswerAsync(new { model = WordContextProvider.Model, input = Words("alpha", 10), user = tag });
        return await AnswerAsync(new { model = WordContextProvider.Model, input = Words("bravo", 10), previous_response_id = first, user = tag });
    }

    private static void AssertContextError(JsonElement body)
    {
        var error = ErrorAssert.Shape(body.GetRawText());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("input", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Auto_drops_the_earliest_turn_and_keeps_the_rest_when_the_chain_outgrows_the_context()
    {
        var previous = await TwoTurnsAsync("auto");

        // 21 earlier words and 10 new ones: 31, one over. Dropping the first turn (and its answer) leaves 21.
        var (status, response) = await PostAsync(new { model = WordContextProvider.Model, input = Words("charlie", 10), previous_response_id = previous, truncation = "auto", user = "auto" });

        Assert.True(status == HttpStatusCode.OK, response.GetRawText());
        Assert.Equal("completed", response.GetProperty("status").GetString());
        Assert.Equal("auto", response.GetProperty("truncation").GetString());
        Assert.Equal(21, response.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        var read = _words.Read["auto"];
        Assert.Equal([Words("bravo", 10), "ok", Words("charlie", 10)], read);

        // Truncation changes what the model read, not what is stored: the chain still starts with the first turn.
        var items = JsonElement.Parse(await _server.Http.GetStringAsync($"/v1/responses/{response.GetProperty("id").GetString()}/input_items?order=asc"));
        Assert.Equal(Words("charlie", 10), items.GetProperty("data")[0].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Auto_streams_the_truncated_answer()
    {
        var previous = await TwoTurnsAsync("auto-stream");
        using var content = new StringContent(
            JsonSerializer.Serialize(new { model = WordContextProvider.Model, input = Words("charlie", 10), previous_response_id = previous, truncation = "auto", stream = true, user = "auto-stream" }),
            Encoding.UTF8,
            "application/json");
        using var response = await _server.Http.PostAsync("/v1/responses", content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("event: response.completed", text, StringComparison.Ordinal);
        Assert.DoesNotContain("response.failed", text, StringComparison.Ordinal);
        Assert.Equal([Words("bravo", 10), "ok", Words("charlie", 10)], _words.Read["auto-stream"]);
    }

    [Theory]
    [InlineData("disabled")]
    [InlineData(null)]
    public async Task Disabled_or_omitted_truncation_answers_the_context_error(string? truncation)
    {
        var tag = "disabled-" + (truncation ?? "omitted");
        var previous = await TwoTurnsAsync(tag);
        var body = new JsonObject
        {
            ["model"] = WordContextProvider.Model,
            ["input"] = Words("charlie", 10),
            ["previous_response_id"] = previous,
            ["user"] = tag,
        };
        if (truncation is not null)
        {
            body["truncation"] = truncation;
        }

        var (status, response) = await PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertContextError(response);
        Assert.Equal(5, _words.Read[tag].Count);
    }

    [Fact]
    public async Task Auto_still_answers_the_context_error_when_the_new_input_alone_does_not_fit()
    {
        var previous = await TwoTurnsAsync("too-long");

        var (status, response) = await PostAsync(new { model = WordContextProvider.Model, input = Words("delta", 31), previous_response_id = previous, truncation = "auto", user = "too-long" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertContextError(response);

        // Every shorter context was tried, down to the new input alone.
        Assert.Equal([Words("delta", 31)], _words.Read["too-long"]);
    }

    [Theory]
    [InlineData("auto", "completed")]
    [InlineData("disabled", "failed")]
    public async Task A_background_response_truncates_or_fails_the_same_way(string truncation, string expected)
    {
        var tag = "background-" + truncation;
        var previous = await TwoTurnsAsync(tag);

        var (status, queued) = await PostAsync(new { model = WordContextProvider.Model, input = Words("charlie", 10), previous_response_id = previous, truncation, background = true, user = tag });
        Assert.True(status == HttpStatusCode.OK, queued.GetRawText());

        var id = queued.GetProperty("id").GetString();
        var done = queued;
        for (var i = 0; i < 600 && done.GetProperty("status").GetString() is "queued" or "in_progress"; i++)
        {
            await Task.Delay(50);
            done = JsonElement.Parse(await _server.Http.GetStringAsync($"/v1/responses/{id}"));
        }

        Assert.Equal(expected, done.GetProperty("status").GetString());
        if (expected == "failed")
        {
            Assert.Equal("context_length_exceeded", done.GetProperty("error").GetProperty("code").GetString());
        }
        else
        {
            Assert.Equal(21, done.GetProperty("usage").GetProperty("input_tokens").GetInt32());
            Assert.Equal([Words("bravo", 10), "ok", Words("charlie", 10)], _words.Read[tag]);
        }
    }

    [Fact]
    public async Task The_real_engine_answers_a_chain_over_its_context_only_with_auto_and_within_the_context()
    {
        var tokenizer = _local.GetModel(ShortModel)!.Tokenizer;
        // A turn of about 75 tokens: three of them (with their answers and the template) overflow the window, two fit.
        var words = 1;
        while (tokenizer.Encode(Words("mars", words), false).Count < 75)
        {
            words++;
        }

        var turn = Words("mars", words);
        var turnTokens = tokenizer.Encode(turn, false).Count;
        Assert.InRange(turnTokens, 75, 80);
        var first = await AnswerAsync(new { model = ShortModel, input = turn, max_output_tokens = 16, temperature = 0 });
        var second = await AnswerAsync(new { model = ShortModel, input = turn, previous_response_id = first, max_output_tokens = 16, temperature = 0 });

        var (refused, error) = await PostAsync(new { model = ShortModel, input = turn, previous_response_id = second, max_output_tokens = 16, temperature = 0 });
        Assert.Equal(HttpStatusCode.BadRequest, refused);
        AssertContextError(error);

        var (status, response) = await PostAsync(new { model = ShortModel, input = turn, previous_response_id = second, max_output_tokens = 16, temperature = 0, truncation = "auto" });
        Assert.True(status == HttpStatusCode.OK, response.GetRawText());
        var inputTokens = response.GetProperty("usage").GetProperty("input_tokens").GetInt32();

        // Within the window; more than the two kept turns, fewer than all three: only the first turn was dropped.
        Assert.InRange(inputTokens, 2 * turnTokens, ShortContext - 1);
        Assert.True(inputTokens < 3 * turnTokens, $"{inputTokens} input tokens: the first turn was not dropped");
    }

    /// <summary>
    /// A model (<see cref="Model"/>) whose context holds <see cref="ContextWords"/> words of message text: a longer
    /// prompt fails as the engine's does, with <c>context_length_exceeded</c> on <c>messages</c>. Records the message
    /// texts of each call by its <c>user</c>, answers "ok" and counts the words as prompt tokens.
    /// </summary>
    private sealed class WordContextProvider : IChatProvider
    {
        public const string Model = "word-context";
        public const int ContextWords = 30;

        public ConcurrentDictionary<string, List<string>> Read { get; } = new();

        public string Name => "words";

        public ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyList<ProviderModel>>([new ProviderModel(Model, ModelCapabilities.Chat)]);

        public Task<ChatCompletionResult> CompleteAsync(ChatCall call, CancellationToken cancellationToken) =>
            throw new NotSupportedException("Responses stream.");

        public async IAsyncEnumerable<ChatStreamEvent> StreamAsync(ChatCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            var texts = call.Request.Messages.Select(m => m.GetText()).ToList();
            Read[call.Request.User ?? ""] = texts;
            var words = texts.Sum(t => t.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
            if (words > ContextWords)
            {
                throw new ChatProviderException(ApiError.InvalidRequest(
                    $"This model's maximum context length is {ContextWords} tokens. However, your messages resulted in {words} tokens.",
                    "messages",
                    "context_length_exceeded"));
            }

            ChatCompletionChunk Chunk(ChatDelta delta, string? finish) => new()
            {
                Id = "chatcmpl-words",
                Created = 1_700_000_001,
                Model = call.ResponseModel,
                Choices = [new ChatChunkChoice { Index = 0, Delta = delta, FinishReason = finish }],
            };

            yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta { Role = "assistant", Content = "ok" }, null));
            yield return ChatStreamEvent.FromChunk(Chunk(new ChatDelta(), "stop"));
            yield return ChatStreamEvent.FromChunk(new ChatCompletionChunk
            {
                Id = "chatcmpl-words",
                Created = 1_700_000_001,
                Model = call.ResponseModel,
                Choices = [],
                Usage = CompletionUsage.Create(words, 1),
            });
        }
    }
}
