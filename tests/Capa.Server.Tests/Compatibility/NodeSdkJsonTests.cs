using System.Text.Json;
using Capa.Server.Tests.Reproducibility;

namespace Capa.Server.Tests.Compatibility;

/// <summary>
/// JSON mode, structured outputs and streamed tool calls through the official OpenAI Node SDK (tests/oracle/
/// openai-node-json.mjs), with only the base URL changed, against a real server serving a random-weight local model
/// under the tutorial's model name. The script runs once per class; each test checks one part of what the SDK saw.
/// </summary>
public sealed class NodeSdkJsonTests(NodeSdkJsonTests.SdkRun run) : IClassFixture<NodeSdkJsonTests.SdkRun>
{
    private const string Model = "gpt-3.5-turbo-1106";
    private const int MaxTokens = 64; // the script's max_tokens for the JSON-mode and structured-output requests

    [NodeSdkFact]
    public async Task TutorialJsonExample_GivesAParsableObject_AndStreamsTheSameText()
    {
        var attempts = (await run.SeenAsync()).GetProperty("jsonObject").EnumerateArray().ToList();

        // The script stops at the first seed whose object closed within max_tokens: every earlier one hit the limit.
        Assert.NotEmpty(attempts);
        Assert.Equal("stop", attempts[^1].GetProperty("finish_reason").GetString());
        foreach (var attempt in attempts)
        {
            Assert.Equal("chat.completion", attempt.GetProperty("object").GetString());
            Assert.StartsWith("chatcmpl-", attempt.GetProperty("id").GetString(), StringComparison.Ordinal);
            Assert.Equal(Model, attempt.GetProperty("model").GetString());
            var finish = attempt.GetProperty("finish_reason").GetString();
            var content = attempt.GetProperty("content").GetString();
            Assert.NotNull(content);
            if (finish == "stop")
            {
                Assert.True(attempt.GetProperty("parsedIsPlainObject").GetBoolean(), $"JSON.parse in the SDK's process failed: {attempt.GetProperty("parseError")} on {content}");
                using var document = JsonDocument.Parse(content);
                Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
            }
            else
            {
                Assert.Equal("length", finish);
                Assert.Equal(MaxTokens, attempt.GetProperty("completion_tokens").GetInt32());
            }

            // Same request, same seed, streamed: one id, the same text, the same finish reason.
            var streamed = attempt.GetProperty("streamed");
            Assert.Equal(1, streamed.GetProperty("distinctIds").GetInt32());
            Assert.Equal(content, streamed.GetProperty("content").GetString());
            Assert.Equal(finish, streamed.GetProperty("finish_reason").GetString());
        }
    }

    [NodeSdkFact]
    public async Task TutorialJsonExample_WithoutTheWordJson_IsOpenAIs400_AsBadRequestError()
    {
        var error = (await run.SeenAsync()).GetProperty("missingJsonWord");

        Assert.Equal(JsonValueKind.Object, error.ValueKind); // null when the SDK did not throw
        Assert.True(error.GetProperty("isBadRequest").GetBoolean(), $"the SDK threw {error.GetProperty("name")}");
        Assert.Equal(400, error.GetProperty("status").GetInt32());
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("code").ValueKind);
        Assert.Equal(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            error.GetProperty("message").GetString());
    }

    [NodeSdkFact]
    public async Task JsonSchema_ThroughTheParseHelper_ParsesAndValidates()
    {
        var attempts = (await run.SeenAsync()).GetProperty("jsonSchema").EnumerateArray().ToList();

        // Only an answer cut at max_tokens may make the helper throw (LengthFinishReasonError); the script then tries
        // the next seed. Anything else the SDK throws is an incompatibility.
        Assert.NotEmpty(attempts);
        foreach (var failed in attempts.SkipLast(1))
        {
            Assert.Equal("LengthFinishReasonError", failed.GetProperty("error").GetProperty("name").GetString());
        }

        var last = attempts[^1];
        Assert.False(last.TryGetProperty("error", out var error), $"the parse helper threw: {error}");
        Assert.Equal("stop", last.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, last.GetProperty("refusal").ValueKind);
        Assert.Equal(string.Empty, last.GetProperty("validation").GetString()); // ajv, in the script

        // message.parsed is the SDK's parse of message.content, and has exactly the schema's shape.
        var parsed = last.GetProperty("parsed");
        using var content = JsonDocument.Parse(last.GetProperty("content").GetString()!);
        Assert.True(JsonElement.DeepEquals(content.RootElement, parsed), $"parsed {parsed} differs from content {content.RootElement}");
        Assert.Equal(["reason", "score"], parsed.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(JsonValueKind.Number, parsed.GetProperty("score").ValueKind);
        Assert.InRange(parsed.GetProperty("reason").GetString()!.EnumerateRunes().Count(), 0, 40); // maxLength counts code points
    }

    [NodeSdkFact]
    public async Task ToolCall_ThroughTheStreamingHelper_AccumulatesAValidCall()
    {
        var tool = (await run.SeenAsync()).GetProperty("toolCall");
        Assert.False(tool.TryGetProperty("error", out var error), $"the streaming helper threw: {error}");

        Assert.Equal("tool_calls", tool.GetProperty("finish_reason").GetString());
        Assert.True(tool.GetProperty("argumentDeltas").GetInt32() > 0, "the helper saw no arguments delta event");
        var call = Assert.Single(tool.GetProperty("calls").EnumerateArray());
        Assert.Matches("^call_[A-Za-z0-9]{24}$", call.GetProperty("id").GetString());
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("get_weather", call.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, call.GetProperty("parseError").ValueKind);
        Assert.Equal(string.Empty, call.GetProperty("validation").GetString()); // ajv, in the script

        // The tool is strict, so the helper parsed the arguments itself: the same value.
        using var arguments = JsonDocument.Parse(call.GetProperty("arguments").GetString()!);
        Assert.True(JsonElement.DeepEquals(arguments.RootElement, call.GetProperty("sdkParsedArguments")));
        var unit = arguments.RootElement.GetProperty("unit").GetString();
        Assert.Contains(unit, new[] { "celsius", "fahrenheit" });

        // Streamed and non-streamed with the same seed: the same call (ids are per response).
        var whole = tool.GetProperty("nonStreamed");
        Assert.Equal("tool_calls", whole.GetProperty("finish_reason").GetString());
        var wholeCall = Assert.Single(whole.GetProperty("calls").EnumerateArray());
        Assert.Matches("^call_[A-Za-z0-9]{24}$", wholeCall.GetProperty("id").GetString());
        Assert.Equal(call.GetProperty("name").GetString(), wholeCall.GetProperty("name").GetString());
        Assert.Equal(call.GetProperty("arguments").GetString(), wholeCall.GetProperty("arguments").GetString());
        Assert.Equal(JsonValueKind.Null, whole.GetProperty("content").ValueKind);
    }

    [NodeSdkFact]
    public async Task ToolCall_ThroughTheStreamingHelper_HasNoContent_LikeTheNonStreamedMessage()
    {
        var tool = (await run.SeenAsync()).GetProperty("toolCall");
        Assert.Equal(JsonValueKind.Null, tool.GetProperty("nonStreamed").GetProperty("content").ValueKind);
        Assert.Equal(JsonValueKind.Null, tool.GetProperty("content").ValueKind);
    }

    [NodeSdkFact]
    public async Task ToolCall_RoundTrip_SdkMessageAndToolResult_GiveAPlainAnswer()
    {
        var tool = (await run.SeenAsync()).GetProperty("toolCall");
        Assert.False(tool.TryGetProperty("error", out var error), $"the streaming helper threw: {error}");
        var answer = tool.GetProperty("answer");
        Assert.False(answer.TryGetProperty("error", out var answerError), $"sending the SDK's assistant message and the tool result back failed: {answerError}");

        Assert.Equal("assistant", answer.GetProperty("role").GetString());
        Assert.Contains(answer.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
        Assert.Equal(JsonValueKind.String, answer.GetProperty("content").ValueKind);
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("tool_calls").ValueKind);

        // The history (the assistant's call and the tool's result) reached the template: the prompt grew.
        var before = tool.GetProperty("nonStreamed").GetProperty("prompt_tokens").GetInt32();
        var after = answer.GetProperty("prompt_tokens").GetInt32();
        Assert.True(after > before, $"{after} <= {before}");
    }

    /// <summary>
    /// One server and one run of the script, shared by the class. Started on first use, so that nothing runs where
    /// the tests are skipped for want of node or the SDK.
    /// </summary>
    public sealed class SdkRun : IAsyncLifetime
    {
        private readonly string _models = Directory.CreateTempSubdirectory("capa-node-json-").FullName;
        private readonly Lock _lock = new();
        private LocalReproServer? _server;
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
            _server = await LocalReproServer.StartAsync(_models);
            return await NodeSdk.RunScriptAsync("openai-node-json.mjs", _server.BaseUrl + "/v1", Model);
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

            Directory.Delete(_models, recursive: true);
        }
    }
}
