using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI.Chat;
using Xunit.Abstractions;

namespace Capa.Server.Tests.JsonMode;

/// <summary>JSON mode and structured outputs end to end, through the official OpenAI .NET SDK, on random-weight models.</summary>
public sealed class StructuredOutputTests(JsonModeServerFixture fixture, ITestOutputHelper output) : IClassFixture<JsonModeServerFixture>
{
    private const int Parallelism = 4;

    private static ChatCompletionOptions Options(long seed, int maxTokens, ChatResponseFormat format)
    {
        var options = new ChatCompletionOptions { Temperature = 1f, MaxOutputTokenCount = maxTokens, ResponseFormat = format };
#pragma warning disable OPENAI001
        options.Seed = seed;
#pragma warning restore OPENAI001
        return options;
    }

    [Fact]
    public async Task JsonObject_500Seeds_AlwaysOneObjectOrLength()
    {
        var stopped = 0;
        var length = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 500), new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (i, ct) =>
        {
            var model = JsonModeServerFixture.Models[i % 2];
            ChatCompletion completion = await fixture.Chat(model).CompleteChatAsync(
                [new SystemChatMessage("You are a helpful assistant designed to output JSON."), new UserChatMessage("Score the sentence 'I like apples'.")],
                Options(1000 + i, 24, ChatResponseFormat.CreateJsonObjectFormat()),
                ct);
            var text = completion.Content.Count == 0 ? string.Empty : completion.Content[0].Text;
            if (completion.FinishReason == ChatFinishReason.Length)
            {
                Interlocked.Increment(ref length);
                Assert.Equal(24, completion.Usage.OutputTokenCount);
                return;
            }

            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            using var doc = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            Interlocked.Increment(ref stopped);
        });
        output.WriteLine($"json_object: {stopped} complete objects, {length} stopped at max_tokens");
        Assert.Equal(500, stopped + length);
        Assert.True(stopped > 0, "no request finished its object within the token limit");
    }

    [Fact]
    public async Task JsonSchema_300RequestsOver22Schemas_AllValidate()
    {
        // NJsonSchema resolves draft-07 "definitions" only; "$defs" means the same, so the validator gets that spelling.
        var schemas = await Task.WhenAll(SchemaCorpus.All.Select(async s => (s.Name, s.Schema, s.Strict,
            Validator: await NJsonSchema.JsonSchema.FromJsonAsync(s.Schema.Replace("\"$defs\"", "\"definitions\"", StringComparison.Ordinal).Replace("#/$defs/", "#/definitions/", StringComparison.Ordinal)))));
        var valid = 0;
        var length = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 300), new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (i, ct) =>
        {
            var (name, schema, strict, validator) = schemas[i % schemas.Length];
            var model = JsonModeServerFixture.Models[(i / schemas.Length) % 2];
            ChatCompletion completion = await fixture.Chat(model).CompleteChatAsync(
                [new UserChatMessage("Fill in the form.")],
                Options(5000 + i, 96, ChatResponseFormat.CreateJsonSchemaFormat(name, BinaryData.FromString(schema), jsonSchemaIsStrict: strict)),
                ct);
            if (completion.FinishReason == ChatFinishReason.Length)
            {
                Interlocked.Increment(ref length);
                return;
            }

            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            var text = completion.Content[0].Text;
            var errors = validator.Validate(text);
            Assert.True(errors.Count == 0, $"{name}: {text} -> {string.Join("; ", errors.Select(e => e.ToString()))}");
            Interlocked.Increment(ref valid);
        });
        output.WriteLine($"json_schema: {valid} validated, {length} stopped at max_tokens");
        Assert.Equal(300, valid + length);
        Assert.True(valid >= 250, $"only {valid} of 300 finished within the token limit");
    }

    public static TheoryData<string, string, string> UnsupportedSchemas => new()
    {
        { """{"type":"object","properties":{"a":{"oneOf":[{"type":"string"},{"type":"integer"}]}},"required":["a"],"additionalProperties":false}""", "oneOf", "#/properties/a" },
        { """{"type":"object","properties":{"a":{"type":"string","contentMediaType":"text/html"}},"required":["a"],"additionalProperties":false}""", "contentMediaType", "#/properties/a" },
        { """{"type":"object","properties":{"a":{"type":"array","items":{"not":{"type":"null"}}}},"required":["a"],"additionalProperties":false}""", "not", "#/properties/a/items" },
        { """{"type":"object","patternProperties":{"^x":{"type":"string"}},"additionalProperties":false}""", "patternProperties", "#" },
        { """{"type":"object","properties":{"n":{"type":"integer","multipleOf":5}},"required":["n"],"additionalProperties":false}""", "multipleOf", "#/properties/n" },
        { """{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false,"if":{"required":["a"]},"then":{}}""", "if", "#" },
    };

    [Theory]
    [MemberData(nameof(UnsupportedSchemas))]
    public async Task UnsupportedKeyword_Is400NamingKeywordAndPath_BeforeGenerating(string schema, string keyword, string path)
    {
        var body = $$"""{"model":"{{JsonModeServerFixture.Qwen}}","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":""" + schema + "}}}";
        var response = await fixture.Server.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("response_format", error.GetProperty("param").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains($"'{keyword}'", message, StringComparison.Ordinal);
        Assert.Contains(path, message, StringComparison.Ordinal);

        var sdk = await Assert.ThrowsAsync<ClientResultException>(() => fixture.Chat(JsonModeServerFixture.Llama).CompleteChatAsync(
            [new UserChatMessage("hi")],
            new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("s", BinaryData.FromString(schema)) }));
        Assert.Equal(400, sdk.Status);
    }

    [Fact]
    public async Task JsonObject_WithoutTheWordJson_IsOpenAIs400()
    {
        var body = $$$"""{"model":"{{{JsonModeServerFixture.Qwen}}}","messages":[{"role":"user","content":"Score the sentence 'I like apples'."}],"response_format":{"type":"json_object"}}""";
        var response = await fixture.Server.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", error.GetProperty("message").GetString());
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());

        var sdk = await Assert.ThrowsAsync<ClientResultException>(() => fixture.Chat(JsonModeServerFixture.Llama).CompleteChatAsync(
            [new UserChatMessage("Score it.")],
            new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat() }));
        Assert.Equal(400, sdk.Status);
    }

    [Fact]
    public async Task JsonObject_Streamed_ConcatenatesToTheSameObject_AsNonStreamed()
    {
        var chat = fixture.Chat(JsonModeServerFixture.Qwen);
        ChatMessage[] messages = [new UserChatMessage("Reply in JSON.")];
        for (var seed = 0; seed < 6; seed++)
        {
            var options = Options(seed, 40, ChatResponseFormat.CreateJsonObjectFormat());
            ChatCompletion whole = await chat.CompleteChatAsync(messages, options);
            var streamed = new StringBuilder();
            ChatFinishReason? finish = null;
            await foreach (var update in chat.CompleteChatStreamingAsync(messages, options))
            {
                foreach (var part in update.ContentUpdate)
                {
                    streamed.Append(part.Text);
                }

                finish ??= update.FinishReason;
            }

            Assert.Equal(whole.Content[0].Text, streamed.ToString());
            Assert.Equal(whole.FinishReason, finish);
        }
    }
}
