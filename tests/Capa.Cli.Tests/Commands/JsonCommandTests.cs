using System.Text.Json;
using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;

namespace Capa.Cli.Tests.Commands;

public sealed class JsonCommandTests : IAsyncLifetime
{
    private FakeOpenAiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task PrettyPrintsTheObjectWithJsonMode()
    {
        var (exit, output) = await RunAsync("--model", "json-ok");

        Assert.Equal(0, exit);
        Assert.Contains("\n  \"score\": 8,\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\"comment\": \"我喜欢苹果 🍎\"", output, StringComparison.Ordinal);
        Assert.Contains("\"红色\"", output, StringComparison.Ordinal);
        Assert.Contains("\"ratio\": 0.5", output, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(8, doc.RootElement.GetProperty("score").GetInt32());

        using var request = JsonDocument.Parse(_server.LastRequestBody!);
        Assert.Equal("json_object", request.RootElement.GetProperty("response_format").GetProperty("type").GetString());
        var messages = request.RootElement.GetProperty("messages");
        Assert.Equal(JsonCommand.DefaultSystem, messages[0].GetProperty("content").GetString());
        Assert.Equal(JsonCommand.DefaultPrompt, messages[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task SchemaFileSendsStrictJsonSchema()
    {
        string dir = Directory.CreateTempSubdirectory("capa-json-").FullName;
        try
        {
            string schemaPath = Path.Combine(dir, "apple score.schema.json");
            const string schema = """{"type":"object","properties":{"score":{"type":"number"}},"required":["score"],"additionalProperties":false}""";
            await File.WriteAllTextAsync(schemaPath, schema);

            var (exit, _) = await RunAsync("Score 'I like apples' as JSON.", "--model", "json-ok", "--schema", schemaPath);

            Assert.Equal(0, exit);
            using var request = JsonDocument.Parse(_server.LastRequestBody!);
            var format = request.RootElement.GetProperty("response_format");
            Assert.Equal("json_schema", format.GetProperty("type").GetString());
            var jsonSchema = format.GetProperty("json_schema");
            Assert.Equal("apple_score", jsonSchema.GetProperty("name").GetString());
            Assert.True(jsonSchema.GetProperty("strict").GetBoolean());
            Assert.Equal("number", jsonSchema.GetProperty("schema").GetProperty("properties").GetProperty("score").GetProperty("type").GetString());
            Assert.Equal("Score 'I like apples' as JSON.", request.RootElement.GetProperty("messages")[1].GetProperty("content").GetString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task TruncatedAnswerFailsCleanly()
    {
        var (exit, output) = await RunAsync("--model", "json-cut");
        Assert.Equal(1, exit);
        Assert.DoesNotContain("score", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"a\": ", "length", "not valid JSON", "cut off at the token limit")]
    [InlineData("not json", "stop", "not valid JSON", "finish_reason stop")]
    [InlineData("[1, 2]", "stop", "not an object", "finish_reason stop")]
    [InlineData("", "stop", "not valid JSON", "(empty)")]
    public void InvalidAnswersAreExplained(string content, string finish, string what, string why)
    {
        var e = Assert.Throws<CliException>(() => JsonCommand.Pretty(content, finish));
        Assert.Contains(what, e.Message, StringComparison.Ordinal);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PrettyKeepsNumbersAndNonAsciiAsWritten()
    {
        string pretty = JsonCommand.Pretty("{\"n\":1.50,\"big\":12345678901234567890,\"s\":\"<é>\\u4e2d\"}", "stop");
        Assert.Equal("{\n  \"n\": 1.50,\n  \"big\": 12345678901234567890,\n  \"s\": \"<é>中\"\n}", pretty.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void PrettyEscapesWhatJsonRequiresAndNothingElse()
    {
        string pretty = JsonCommand.Pretty("{\"q\":\"say \\\"hi\\\"\\n\\u001b[31m \\\\ 🚀\",\"e\":{},\"a\":[],\"k\":[null,true,{\"x\":-0.0}]}", "stop");
        Assert.Equal(
            "{\n  \"q\": \"say \\\"hi\\\"\\n\\u001b[31m \\\\ 🚀\",\n  \"e\": {},\n  \"a\": [],\n  \"k\": [\n    null,\n    true,\n    {\n      \"x\": -0.0\n    }\n  ]\n}",
            pretty);
        using var roundTrip = JsonDocument.Parse(pretty);
        Assert.Equal("say \"hi\"\n\u001b[31m \\ 🚀", roundTrip.RootElement.GetProperty("q").GetString());
    }

    [Theory]
    [InlineData("/x/person.json", "person")]
    [InlineData("/x/person.schema.json", "person")]
    [InlineData("/x/my schema v2.json", "my_schema_v2")]
    [InlineData("/x/人物.json", "__")]
    [InlineData("/x/.json", "_json")]
    public void SchemaNameComesFromTheFileName(string path, string expected) =>
        Assert.Equal(expected, JsonSchemaFile.NameFromPath(path));

    [Fact]
    public void OpenAiWrapperFileUsesItsNameAndInnerSchema()
    {
        string path = Path.Combine(Path.GetTempPath(), $"capa-wrapper-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"name":"score card","strict":true,"schema":{"type":"object","properties":{"score":{"type":"integer"}}}}""");
        try
        {
            var file = JsonSchemaFile.Load(path);
            Assert.Equal("score_card", file.Name);
            using var schema = JsonDocument.Parse(file.Schema.ToString());
            Assert.Equal("object", schema.RootElement.GetProperty("type").GetString());
            Assert.False(schema.RootElement.TryGetProperty("name", out _));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task BadSchemaFileIsRefusedBeforeAnyRequest()
    {
        string path = Path.Combine(Path.GetTempPath(), $"capa-bad-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, "[1,2]");
        try
        {
            Assert.Equal(1, (await RunAsync("--schema", path)).ExitCode);
            Assert.Equal(1, (await RunAsync("--schema", path + ".missing")).ExitCode);
            Assert.Null(_server.LastRequestBody);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private Task<(int ExitCode, string Output)> RunAsync(params string[] args) =>
        CommandHarness.RunAsync(JsonCommand.Create(), ["--base-url", _server.BaseUrl.ToString(), "--api-key", "test", .. args]);
}
