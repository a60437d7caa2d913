using System.Text;
using System.Text.Json;
using OpenAI.Chat;

namespace Capa.Server.Tests.JsonMode;

/// <summary>Tool calling end to end through the official OpenAI .NET SDK, on both tool-call formats.</summary>
public sealed class ToolCallingTests(JsonModeServerFixture fixture) : IClassFixture<JsonModeServerFixture>
{
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string","maxLength":8},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city","unit"],"additionalProperties":false}""";
    private const string TimeSchema = """{"type":"object","properties":{"zone":{"type":"string","enum":["UTC","CET","PST"]},"seconds":{"type":"boolean"}},"required":["zone"]}""";

    private static readonly Dictionary<string, NJsonSchema.JsonSchema> Validators = new()
    {
        ["get_weather"] = NJsonSchema.JsonSchema.FromJsonAsync(WeatherSchema).GetAwaiter().GetResult(),
        ["get_time"] = NJsonSchema.JsonSchema.FromJsonAsync(TimeSchema).GetAwaiter().GetResult(),
    };

    public static TheoryData<string> Models => [JsonModeServerFixture.Qwen, JsonModeServerFixture.Llama];

    private static ChatCompletionOptions Options(long seed, ChatToolChoice choice, bool? parallel = null)
    {
        // Up to 8 parallel calls of up to ~40 tokens each fit in the limit, so forced calls always finish.
        var options = new ChatCompletionOptions { Temperature = 1f, MaxOutputTokenCount = 400, ToolChoice = choice, AllowParallelToolCalls = parallel };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "Current weather in a city", BinaryData.FromString(WeatherSchema), functionSchemaIsStrict: true));
        options.Tools.Add(ChatTool.CreateFunctionTool("get_time", "Current time in a zone", BinaryData.FromString(TimeSchema)));
#pragma warning disable OPENAI001
        options.Seed = seed;
#pragma warning restore OPENAI001
        return options;
    }

    private static void AssertValid(string name, string arguments)
    {
        Assert.True(Validators.TryGetValue(name, out var validator), $"unknown tool '{name}'");
        var errors = validator!.Validate(arguments);
        Assert.True(errors.Count == 0, $"{name}({arguments}): {string.Join("; ", errors)}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Required_NonStreamed_CallsAValidTool(string model)
    {
        var chat = fixture.Chat(model);
        var names = new HashSet<string>();
        for (var seed = 0; seed < 12; seed++)
        {
            ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("What's the weather in Paris?")], Options(seed, ChatToolChoice.CreateRequiredChoice(), parallel: false));
            Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
            var call = Assert.Single(completion.ToolCalls);
            Assert.Matches("^call_[A-Za-z0-9]{24}$", call.Id);
            Assert.Equal(ChatToolCallKind.Function, call.Kind);
            Assert.Empty(completion.Content);
            AssertValid(call.FunctionName, call.FunctionArguments.ToString());
            names.Add(call.FunctionName);
        }

        Assert.Equal(2, names.Count); // the model chooses among the tools
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Required_WithParallelCalls_MakesSeveralValidCalls(string model)
    {
        // Random weights keep adding calls (up to 8), so a response may stop at max_tokens. Then, as with OpenAI, its
        // last call holds the arguments generated so far; every call before it is complete and validates.
        var chat = fixture.Chat(model);
        var several = false;
        for (var seed = 0; seed < 8; seed++)
        {
            ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Weather in Paris and the time in UTC?")], Options(seed, ChatToolChoice.CreateRequiredChoice()));
            Assert.Contains(completion.FinishReason, new[] { ChatFinishReason.ToolCalls, ChatFinishReason.Length });
            Assert.NotEmpty(completion.ToolCalls);
            several |= completion.ToolCalls.Count > 1;
            Assert.Equal(completion.ToolCalls.Count, completion.ToolCalls.Select(c => c.Id).Distinct().Count());
            var complete = completion.FinishReason == ChatFinishReason.ToolCalls ? completion.ToolCalls : completion.ToolCalls.SkipLast(1);
            foreach (var call in complete)
            {
                AssertValid(call.FunctionName, call.FunctionArguments.ToString());
            }
        }

        Assert.True(several, "parallel tool calls were allowed but never made");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task NamedFunction_WithoutParallelCalls_CallsExactlyThatOne(string model)
    {
        var chat = fixture.Chat(model);
        for (var seed = 0; seed < 8; seed++)
        {
            ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("What time is it?")], Options(seed, ChatToolChoice.CreateFunctionChoice("get_time"), parallel: false));
            Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
            var call = Assert.Single(completion.ToolCalls);
            Assert.Equal("get_time", call.FunctionName);
            AssertValid(call.FunctionName, call.FunctionArguments.ToString());
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Required_Streamed_AccumulatesToTheSameCalls(string model)
    {
        var chat = fixture.Chat(model);
        for (var seed = 20; seed < 28; seed++)
        {
            var options = Options(seed, ChatToolChoice.CreateRequiredChoice(), parallel: seed % 2 == 0);
            ChatCompletion whole = await chat.CompleteChatAsync([new UserChatMessage("Weather and time please.")], options);
            var ids = new Dictionary<int, string>();
            var names = new Dictionary<int, string>();
            var arguments = new Dictionary<int, StringBuilder>();
            ChatFinishReason? finish = null;
            await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Weather and time please.")], options))
            {
                foreach (var part in update.ToolCallUpdates)
                {
                    if (part.ToolCallId is { } id)
                    {
                        Assert.False(ids.ContainsKey(part.Index), "a call's id came twice");
                        ids[part.Index] = id;
                        names[part.Index] = part.FunctionName ?? string.Empty;
                        arguments[part.Index] = new StringBuilder();
                    }
                    else
                    {
                        Assert.True(ids.ContainsKey(part.Index), "arguments came before the call's first delta");
                        Assert.Null(part.FunctionName);
                    }

                    arguments[part.Index].Append(part.FunctionArgumentsUpdate?.ToString());
                }

                finish ??= update.FinishReason;
            }

            Assert.Equal(whole.FinishReason, finish);
            Assert.Contains(finish, new ChatFinishReason?[] { ChatFinishReason.ToolCalls, ChatFinishReason.Length });
            Assert.NotEmpty(ids);
            Assert.Equal(whole.ToolCalls.Count, ids.Count);
            for (var i = 0; i < ids.Count; i++)
            {
                Assert.Matches("^call_[A-Za-z0-9]{24}$", ids[i]);
                Assert.Equal(whole.ToolCalls[i].FunctionName, names[i]);
                Assert.Equal(whole.ToolCalls[i].FunctionArguments.ToString(), arguments[i].ToString());
                if (finish == ChatFinishReason.ToolCalls || i < ids.Count - 1)
                {
                    AssertValid(names[i], arguments[i].ToString()); // only a call cut by the token limit may be partial
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task FullRoundTrip_CallThenToolMessageThenAnswer(string model)
    {
        var chat = fixture.Chat(model);
        List<ChatMessage> messages = [new SystemChatMessage("You can look up the weather."), new UserChatMessage("What's the weather in Oslo?")];
        ChatCompletion first = await chat.CompleteChatAsync(messages, Options(7, ChatToolChoice.CreateFunctionChoice("get_weather"), parallel: false));
        var call = Assert.Single(first.ToolCalls);
        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, """{"temperature": 21, "unit": "celsius"}"""));
        var answerOptions = Options(8, ChatToolChoice.CreateNoneChoice());
        answerOptions.MaxOutputTokenCount = 16;
        ChatCompletion answer = await chat.CompleteChatAsync(messages, answerOptions);
        Assert.Contains(answer.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length });
        Assert.Empty(answer.ToolCalls);

        // The history (assistant tool call + tool result) reached the template: the prompt grew by at least the result.
        Assert.True(answer.Usage.InputTokenCount > first.Usage.InputTokenCount, $"{answer.Usage.InputTokenCount} <= {first.Usage.InputTokenCount}");
    }

    [Fact]
    public async Task Auto_ParsesTheModelsNativeFormat_OrReturnsText()
    {
        // Random weights rarely write a call unprompted; what comes back is either text or well-formed calls.
        var chat = fixture.Chat(JsonModeServerFixture.Qwen);
        for (var seed = 0; seed < 6; seed++)
        {
            ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Hello")], Options(seed, ChatToolChoice.CreateAutoChoice()));
            if (completion.ToolCalls.Count > 0)
            {
                Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
                Assert.All(completion.ToolCalls, c => AssertValid(c.FunctionName, c.FunctionArguments.ToString()));
            }
            else
            {
                Assert.NotEqual(ChatFinishReason.ToolCalls, completion.FinishReason);
            }
        }
    }

    [Fact]
    public async Task UnknownNamedFunction_Is400()
    {
        var body = """{"model":"test/qwen2-tiny","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{}}}}],"tool_choice":{"type":"function","function":{"name":"g"}}}""";
        var response = await fixture.Server.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(400, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("tool_choice.function.name", doc.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    /// <summary>
    /// On the wire, a choice that opens with a tool call starts as OpenAI's do: role, <c>content: null</c> and the call's
    /// first delta in one chunk (so SDK accumulators end with null content, like the non-streamed message); a choice of
    /// plain text starts with role and empty content. Exactly one chunk per choice carries the role. Read raw: the
    /// SDK's accumulator hides the wire shape being checked.
    /// </summary>
    [Theory]
    [InlineData("required", true)]
    [InlineData("auto", false)]
    public async Task Streamed_FirstChunk_IsOpenAIsStart(string toolChoice, bool call)
    {
        var tools = $$$"""[{"type":"function","function":{"name":"get_weather","parameters":{{{WeatherSchema}}},"strict":true}}]""";
        var body = $$"""{"model":"{{JsonModeServerFixture.Qwen}}","messages":[{"role":"user","content":"Weather?"}],"tools":{{tools}},"tool_choice":"{{toolChoice}}","stream":true,"seed":3,"max_tokens":60,"n":2}""";
        using var response = await fixture.Server.Http.SendAsync(Infrastructure.SseTestReader.Post(body, key: null));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var chunks = Infrastructure.SseTestReader.DataOf(await response.Content.ReadAsStringAsync()).Where(d => d != "[DONE]").Select(d => JsonDocument.Parse(d)).ToList();
        for (var index = 0; index < 2; index++)
        {
            var deltas = chunks.Select(c => c.RootElement.GetProperty("choices")).Where(c => c.GetArrayLength() == 1 && c[0].GetProperty("index").GetInt32() == index)
                .Select(c => c[0].GetProperty("delta")).ToList();
            var first = deltas[0];
            Assert.Equal("assistant", first.GetProperty("role").GetString());
            Assert.Equal(JsonValueKind.Null, first.GetProperty("refusal").ValueKind);
            Assert.Single(deltas, d => d.TryGetProperty("role", out _));
            if (call)
            {
                Assert.Equal(JsonValueKind.Null, first.GetProperty("content").ValueKind);
                var opening = Assert.Single(first.GetProperty("tool_calls").EnumerateArray());
                Assert.Equal(0, opening.GetProperty("index").GetInt32());
                Assert.StartsWith("call_", opening.GetProperty("id").GetString(), StringComparison.Ordinal);
                Assert.Equal("get_weather", opening.GetProperty("function").GetProperty("name").GetString());
                Assert.DoesNotContain(deltas, d => d.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String);
            }
            else
            {
                Assert.Equal(string.Empty, first.GetProperty("content").GetString());
                Assert.False(first.TryGetProperty("tool_calls", out _));
            }
        }

        foreach (var chunk in chunks)
        {
            chunk.Dispose();
        }
    }

    // Raw HTTP: the .NET SDK (2.15) has no allowed_tools tool choice.
    private async Task<(System.Net.HttpStatusCode Status, JsonDocument Body)> PostAsync(string model, string toolChoice, int seed, string user = "Weather and time?")
    {
        var tools = $$$"""[{"type":"function","function":{"name":"get_weather","parameters":{{{WeatherSchema}}},"strict":true}},{"type":"function","function":{"name":"get_time","parameters":{{{TimeSchema}}}}}]""";
        var body = $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{user}}"}],"tools":{{tools}},"tool_choice":{{toolChoice}},"seed":{{seed}},"max_tokens":300,"parallel_tool_calls":true}""";
        using var response = await fixture.Server.Http.SendAsync(Infrastructure.SseTestReader.Post(body, key: null));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()));
    }

    /// <summary><c>allowed_tools</c> with mode required: calls are forced, and only to the tools it names.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public async Task AllowedTools_Required_CallsOnlyTheAllowedTools(string model)
    {
        for (var seed = 0; seed < 6; seed++)
        {
            var (status, body) = await PostAsync(model, """{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"get_time"}}]}}""", seed);
            using (body)
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, status);
                var choice = body.RootElement.GetProperty("choices")[0];
                Assert.Contains(choice.GetProperty("finish_reason").GetString(), new[] { "tool_calls", "length" });
                var calls = choice.GetProperty("message").GetProperty("tool_calls").EnumerateArray().ToList();
                Assert.NotEmpty(calls);
                Assert.All(calls, c => Assert.Equal("get_time", c.GetProperty("function").GetProperty("name").GetString()));
                if (choice.GetProperty("finish_reason").GetString() == "tool_calls")
                {
                    Assert.All(calls, c => AssertValid("get_time", c.GetProperty("function").GetProperty("arguments").GetString()!));
                }
            }
        }
    }

    /// <summary><c>allowed_tools</c> with mode auto: the model is shown only the allowed tools (a shorter prompt).</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public async Task AllowedTools_Auto_ShowsOnlyTheAllowedTools(string model)
    {
        var (allStatus, all) = await PostAsync(model, "\"auto\"", 1);
        var (status, subset) = await PostAsync(model, """{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"get_time"}}]}}""", 1);
        using (all)
        using (subset)
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, allStatus);
            Assert.Equal(System.Net.HttpStatusCode.OK, status);
            Assert.True(
                subset.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() < all.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(),
                "the prompt should hold get_time only");
            if (subset.RootElement.GetProperty("choices")[0].GetProperty("message").TryGetProperty("tool_calls", out var calls))
            {
                Assert.All(calls.EnumerateArray(), c => Assert.Equal("get_time", c.GetProperty("function").GetProperty("name").GetString()));
            }
        }
    }

    [Theory]
    [InlineData("""{"mode":"required","tools":[{"type":"function","function":{"name":"get_stock"}}]}""", "tool_choice.allowed_tools.tools[0]")]
    [InlineData("""{"mode":"auto","tools":[{"type":"function","function":{"name":"get_time"}},{"type":"custom","custom":{"name":"get_time"}}]}""", "tool_choice.allowed_tools.tools[1]")]
    [InlineData("""{"mode":"required","tools":[]}""", "tool_choice.allowed_tools.tools")]
    public async Task AllowedTools_NamingNoTool_Is400(string allowed, string param)
    {
        var (status, body) = await PostAsync(JsonModeServerFixture.Qwen, $$"""{"type":"allowed_tools","allowed_tools":{{allowed}}}""", 1);
        using (body)
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, status);
            var error = body.RootElement.GetProperty("error");
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.Equal(param, error.GetProperty("param").GetString());
            Assert.Equal("invalid_value", error.GetProperty("code").GetString());
        }
    }

    /// <summary>
    /// tool_choice auto: a call the model opens is constrained from its opening on. The opening (Qwen's tag, Llama's
    /// brace) is made certain with logit_bias (a random-weight model would rarely write it); what follows is the model's own, under the call
    /// grammar: a valid call to a given tool, and with parallel_tool_calls false nothing after it. Streamed and not,
    /// the same call.
    /// </summary>
    [Theory]
    [InlineData(JsonModeServerFixture.Qwen, "<tool_call>")] // Hermes: constrained after the opening tag
    [InlineData(JsonModeServerFixture.Llama, "{")] // Llama 3 bare JSON: an output that opens an object is the call
    public async Task Auto_ACallTheModelOpens_IsAlwaysAValidCall(string model, string opening)
    {
        var chat = fixture.Chat(model);
        var open = fixture.TokenId(model, opening);
        for (var seed = 0; seed < 6; seed++)
        {
            var options = Options(seed, ChatToolChoice.CreateAutoChoice(), parallel: false);
            options.LogitBiases[open] = 100;
            ChatCompletion whole = await chat.CompleteChatAsync([new UserChatMessage("Weather?")], options);
            Assert.Equal(ChatFinishReason.ToolCalls, whole.FinishReason);
            var call = Assert.Single(whole.ToolCalls);
            AssertValid(call.FunctionName, call.FunctionArguments.ToString());

            // Streamed, the SDK accumulates the same call.
            string? name = null;
            var arguments = new StringBuilder();
            ChatFinishReason? finish = null;
            await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Weather?")], options))
            {
                foreach (var part in update.ToolCallUpdates)
                {
                    Assert.Equal(0, part.Index);
                    name ??= part.FunctionName;
                    arguments.Append(part.FunctionArgumentsUpdate?.ToString());
                }

                finish ??= update.FinishReason;
            }

            Assert.Equal(ChatFinishReason.ToolCalls, finish);
            Assert.Equal(call.FunctionName, name);
            Assert.Equal(call.FunctionArguments.ToString(), arguments.ToString());
        }
    }

    private sealed record Streamed(string Content, List<(string Name, string Arguments)> Calls, ChatFinishReason? Finish);

    private static async Task<Streamed> StreamAsync(ChatClient chat, string prompt, ChatCompletionOptions options)
    {
        var content = new StringBuilder();
        var calls = new List<(string Name, StringBuilder Arguments)>();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage(prompt)], options))
        {
            foreach (var part in update.ContentUpdate)
            {
                content.Append(part.Text);
            }

            foreach (var part in update.ToolCallUpdates)
            {
                if (part.ToolCallId is not null)
                {
                    Assert.Equal(calls.Count, part.Index);
                    calls.Add((part.FunctionName ?? string.Empty, new StringBuilder()));
                }

                calls[part.Index].Arguments.Append(part.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        return new Streamed(content.ToString(), [.. calls.Select(c => (c.Name, c.Arguments.ToString()))], finish);
    }

    private static void AssertNoMarkup(string text)
    {
        foreach (var markup in new[] { "<tool_call", "</tool_call", "{\"name", "<|python_tag|>" })
        {
            Assert.DoesNotContain(markup, text, StringComparison.Ordinal);
        }

        Assert.False(text.TrimStart().StartsWith('{'), $"content holds a call's JSON: {text}");
    }

    /// <summary>
    /// A forced call cut by max_tokens anywhere (inside the opening tag, the name, the arguments) is still a tool call:
    /// the forced function's name (or, under required, as much of a tool's name as was generated), the arguments so
    /// far, finish length, no content; streamed and not, the same.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public async Task ForcedCall_CutByMaxTokens_IsAToolCall_NeverMarkup(string model)
    {
        var chat = fixture.Chat(model);
        foreach (var named in new[] { true, false })
        {
            for (var limit = 1; limit <= 16; limit++)
            {
                var options = Options(limit, named ? ChatToolChoice.CreateFunctionChoice("get_weather") : ChatToolChoice.CreateRequiredChoice(), parallel: false);
                options.MaxOutputTokenCount = limit;
                ChatCompletion whole = await chat.CompleteChatAsync([new UserChatMessage("Weather in Oslo?")], options);
                var streamed = await StreamAsync(chat, "Weather in Oslo?", options);
                var context = $"{model}, {(named ? "named" : "required")}, max_tokens {limit}";
                var content = whole.Content.Count == 0 ? string.Empty : whole.Content[0].Text;
                Assert.True(content.Length == 0, $"{context}: content '{content}'");
                Assert.Equal(string.Empty, streamed.Content);
                var call = Assert.Single(whole.ToolCalls);
                if (named)
                {
                    Assert.Equal("get_weather", call.FunctionName);
                }
                else
                {
                    Assert.True(Validators.Keys.Any(k => k.StartsWith(call.FunctionName, StringComparison.Ordinal)), $"{context}: name '{call.FunctionName}'");
                }

                Assert.Contains(whole.FinishReason, new[] { ChatFinishReason.Length, ChatFinishReason.ToolCalls });
                if (whole.FinishReason == ChatFinishReason.ToolCalls)
                {
                    AssertValid(call.FunctionName, call.FunctionArguments.ToString());
                }

                Assert.Equal(whole.FinishReason, streamed.Finish);
                var streamedCall = Assert.Single(streamed.Calls);
                Assert.Equal(call.FunctionName, streamedCall.Name);
                Assert.Equal(call.FunctionArguments.ToString(), streamedCall.Arguments);
            }
        }
    }

    /// <summary>tool_choice auto: a call the model opened and max_tokens cut short is dropped, never shown as content.</summary>
    [Theory]
    [InlineData(JsonModeServerFixture.Qwen, "<tool_call>")]
    [InlineData(JsonModeServerFixture.Llama, "{")]
    public async Task Auto_ACallCutByMaxTokens_IsDropped_NeverShownRaw(string model, string opening)
    {
        var chat = fixture.Chat(model);
        var open = fixture.TokenId(model, opening);
        for (var limit = 1; limit <= 12; limit++)
        {
            var options = Options(limit, ChatToolChoice.CreateAutoChoice(), parallel: false);
            options.LogitBiases[open] = 100;
            options.MaxOutputTokenCount = limit;
            ChatCompletion whole = await chat.CompleteChatAsync([new UserChatMessage("Weather?")], options);
            var streamed = await StreamAsync(chat, "Weather?", options);
            Assert.Equal(ChatFinishReason.Length, whole.FinishReason);
            Assert.Equal(ChatFinishReason.Length, streamed.Finish);
            AssertNoMarkup(whole.Content.Count == 0 ? string.Empty : whole.Content[0].Text);
            AssertNoMarkup(streamed.Content);
            Assert.Empty(whole.ToolCalls);
            Assert.Empty(streamed.Calls);
        }
    }
}
