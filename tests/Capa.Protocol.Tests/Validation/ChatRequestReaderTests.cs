using System.Text;
using System.Text.Json;

namespace Capa.Protocol.Tests.Validation;

public class ChatRequestReaderTests
{
    private const string Messages = """[{"role":"user","content":"hi"}]""";

    internal static ChatCompletionRequest Read(string json, ChatRequestLimits? limits = null)
    {
        var ok = ChatRequestReader.TryRead(Encoding.UTF8.GetBytes(json), limits ?? ChatRequestLimits.Default, out var request, out var error);
        Assert.True(ok, error?.ToString());
        Assert.Null(error);
        return request!;
    }

    internal static ApiError Reject(string json, ChatRequestLimits? limits = null) => Reject(Encoding.UTF8.GetBytes(json), limits);

    internal static ApiError Reject(byte[] body, ChatRequestLimits? limits = null)
    {
        var ok = ChatRequestReader.TryRead(body, limits ?? ChatRequestLimits.Default, out var request, out var error);
        Assert.False(ok, "accepted: " + Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 200))));
        Assert.Null(request);
        Assert.NotNull(error);
        return error;
    }

    private static ApiError RejectWith(string extraMembers, string? messages = Messages) =>
        Reject($$"""{"model":"m","messages":{{messages}}{{(extraMembers.Length > 0 ? "," : "")}}{{extraMembers}}}""");

    private static ChatCompletionRequest ReadWith(string extraMembers, string messages = Messages) =>
        Read($$"""{"model":"m","messages":{{messages}}{{(extraMembers.Length > 0 ? "," : "")}}{{extraMembers}}}""");

    private static void AssertInvalid(ApiError error, string? param, string? code = null, string? messagePart = null)
    {
        Assert.Equal(400, error.Status);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.Equal(param, error.Param);
        if (code is not null)
        {
            Assert.Equal(code, error.Code);
        }

        if (messagePart is not null)
        {
            Assert.Contains(messagePart, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Reads_the_seed_chat_request()
    {
        var request = Read("""
            {"model":"gpt-4-1106-preview","messages":[
              {"role":"system","content":"You are a helpful assistant."},
              {"role":"user","content":"谁获得了2022年英雄联盟S赛世界冠军？"}]}
            """);
        Assert.Equal("gpt-4-1106-preview", request.Model);
        Assert.Equal(2, request.Messages.Count);
        Assert.Equal(ChatRole.System, request.Messages[0].Role);
        Assert.Equal("谁获得了2022年英雄联盟S赛世界冠军？", request.Messages[1].GetText());
        Assert.False(request.IsStreaming);
        Assert.Null(request.EffectiveMaxTokens);
    }

    [Fact]
    public void Reads_the_seed_json_mode_and_seed_requests()
    {
        var json = Read("""
            {"model":"gpt-3.5-turbo-1106","response_format":{"type":"json_object"},"messages":[
              {"role":"system","content":"You are a helpful assistant designed to output JSON."},
              {"role":"user","content":"Now I want you to score the sentence 'I like apples'"}]}
            """);
        Assert.Equal(ResponseFormatTypes.JsonObject, json.ResponseFormat!.Type);

        var seeded = Read("""{"model":"gpt-3.5-turbo-1106","messages":[{"role":"user","content":"x"}],"seed":123,"max_tokens":200,"temperature":0.7}""");
        Assert.Equal(123L, seeded.Seed);
        Assert.Equal(200, seeded.EffectiveMaxTokens);
        Assert.Equal(0.7, seeded.Temperature);
    }

    [Fact]
    public void Reads_the_seed_vision_request()
    {
        var request = Read("""
            {"model":"gpt-4-vision-preview","max_tokens":300,"messages":[{"role":"user","content":[
              {"type":"text","text":"这个图片里面有什么内容？"},
              {"type":"image_url","image_url":{"url":"https://upload.wikimedia.org/a.jpg"}}]}]}
            """);
        var parts = request.Messages[0].Content!.Parts!;
        Assert.Equal(2, parts.Count);
        Assert.Equal("https://upload.wikimedia.org/a.jpg", parts[1].ImageUrl!.Url);
        Assert.Null(parts[1].ImageUrl!.Detail);
        Assert.Equal("这个图片里面有什么内容？", request.Messages[0].GetText());
    }

    [Fact]
    public void Reads_every_modelled_parameter()
    {
        var request = Read("""
            {"model":"m","messages":[{"role":"developer","content":[{"type":"text","text":"be brief"}]},{"role":"user","content":"q","name":"bob"}],
             "temperature":0,"top_p":1,"n":2,"stream":true,"stream_options":{"include_usage":true},"stop":["a","b"],
             "max_tokens":5,"max_completion_tokens":9,"presence_penalty":-2,"frequency_penalty":2,"logit_bias":{"50256":-100,"7":2.5},
             "logprobs":true,"top_logprobs":20,"seed":-9223372036854775808,
             "response_format":{"type":"json_schema","json_schema":{"name":"answer_1","description":"d","schema":{"type":"object"},"strict":true}},
             "tools":[{"type":"function","function":{"name":"get-weather","description":"w","parameters":{"type":"object","properties":{}},"strict":false}}],
             "tool_choice":{"type":"function","function":{"name":"get-weather"}},"parallel_tool_calls":false,"user":"u1",
             "store":false,"metadata":{"k":"v"},"service_tier":"auto","reasoning_effort":"low","modalities":["text"],"verbosity":"low",
             "prompt_cache_key":"p","safety_identifier":"s","prediction":{"type":"content","content":"x"},"web_search_options":{},
             "some_future_field":{"anything":[1,2,3]}}
            """);

        Assert.Equal(0, request.Temperature);
        Assert.Equal(1, request.TopP);
        Assert.Equal(2, request.N);
        Assert.True(request.IsStreaming);
        Assert.True(request.IncludeUsage);
        Assert.Equal(["a", "b"], request.Stop);
        Assert.Equal(5, request.MaxTokens);
        Assert.Equal(9, request.EffectiveMaxTokens);
        Assert.Equal(-2, request.PresencePenalty);
        Assert.Equal(2, request.FrequencyPenalty);
        Assert.Equal(-100, request.LogitBias![50256]);
        Assert.Equal(2.5, request.LogitBias[7]);
        Assert.True(request.Logprobs);
        Assert.Equal(20, request.TopLogprobs);
        Assert.Equal(long.MinValue, request.Seed);
        Assert.Equal("answer_1", request.ResponseFormat!.JsonSchema!.Name);
        Assert.True(request.ResponseFormat.JsonSchema.Strict);
        Assert.Equal(JsonValueKind.Object, request.ResponseFormat.JsonSchema.Schema!.Value.ValueKind);
        Assert.Equal("get-weather", request.Tools![0].Name);
        Assert.Equal(ToolChoiceMode.Function, request.ToolChoice!.Mode);
        Assert.Equal("get-weather", request.ToolChoice.Name);
        Assert.False(request.ParallelToolCalls);
        Assert.Equal("u1", request.User);
        Assert.Equal("v", request.Metadata!["k"]);
        Assert.Equal("bob", request.Messages[1].Name);
        Assert.Equal(ChatRole.Developer, request.Messages[0].Role);
        Assert.Equal(["text"], request.Modalities);
        Assert.True(request.Raw.TryGetProperty("some_future_field", out _));
    }

    [Fact]
    public void Null_optional_parameters_mean_absent()
    {
        var request = ReadWith("""
            "temperature":null,"top_p":null,"n":null,"stream":null,"stop":null,"max_tokens":null,"logit_bias":null,"seed":null,
            "response_format":null,"tools":null,"tool_choice":null,"user":null,"stream_options":null,"top_logprobs":null
            """);
        Assert.Null(request.Temperature);
        Assert.Null(request.Stop);
        Assert.Null(request.Tools);
        Assert.False(request.IsStreaming);
    }

    [Fact]
    public void Single_stop_string_is_a_list_of_one()
    {
        Assert.Equal(["\n"], ReadWith("\"stop\":\"\\n\"").Stop);
    }

    [Fact]
    public void Raw_outlives_the_body_buffer()
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"alias","messages":[{"role":"user","content":"hi"}],"x_custom":1}""");
        Assert.True(ChatRequestReader.TryRead(body, out var request, out _));
        Array.Clear(body);
        Assert.Equal(1, request.Raw.GetProperty("x_custom").GetInt32());
    }

    [Fact]
    public void Byte_order_mark_is_skipped()
    {
        var body = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("""{"model":"m","messages":[{"role":"user","content":"x"}]}""")).ToArray();
        Assert.True(ChatRequestReader.TryRead(body, out _, out _));
    }

    // --- Body-level errors ---

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{")]
    [InlineData("{\"model\":")]
    [InlineData("not json")]
    [InlineData("{'model':'m'}")]
    [InlineData("{\"model\":\"m\",}")]
    [InlineData("{\"model\":\"m\"} {}")]
    [InlineData("{\"model\":\"m\"} x")]
    [InlineData("// comment\n{}")]
    [InlineData("{\"a\":NaN}")]
    public void Malformed_json_is_rejected_with_the_parse_message(string body)
    {
        var error = Reject(body);
        AssertInvalid(error, null, messagePart: "We could not parse the JSON body of your request.");
        Assert.Null(error.Code);
    }

    [Theory]
    [InlineData("[]", "an array")]
    [InlineData("\"x\"", "a string")]
    [InlineData("1", "an integer")]
    [InlineData("1.5", "a decimal")]
    [InlineData("null", "null")]
    [InlineData("true", "a boolean")]
    public void Body_must_be_an_object(string body, string described)
    {
        var error = Reject(body);
        AssertInvalid(error, null, "invalid_type", $"expected a JSON object, but got {described} instead");
    }

    [Fact]
    public void Invalid_utf8_is_rejected()
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"m","messages":[{"role":"user","content":"AB"}]}""");
        var at = Array.IndexOf(body, (byte)'A');
        body[at] = 0xC3;
        body[at + 1] = 0x28;
        AssertInvalid(Reject(body), null, messagePart: "not valid UTF-8");
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"\ud800"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"\udc00x"}]}""")]
    [InlineData("""{"model":"\ud83d","messages":[{"role":"user","content":"x"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"\ud800":1}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x","\udfff":1}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":{"\ud800":1}}""")]
    public void Lone_surrogate_escapes_are_rejected(string body)
    {
        var error = Reject(body);
        AssertInvalid(error, null, messagePart: "We could not parse the JSON body of your request.");
    }

    [Fact]
    public void Escaped_surrogate_pairs_are_text()
    {
        Assert.Equal("😀", ReadWith("", """[{"role":"user","content":"\ud83d\ude00"}]""").Messages[0].GetText());
    }

    [Fact]
    public void Too_deep_nesting_is_rejected()
    {
        var deep = new string('[', 65) + new string(']', 65);
        var error = Reject($$"""{"model":"m","messages":[{"role":"user","content":"x"}],"x":{{deep}}}""");
        AssertInvalid(error, null, messagePart: "deeper than the maximum of 64");
    }

    [Fact]
    public void Nesting_within_the_limit_is_accepted()
    {
        var deep = new string('[', 60) + new string(']', 60);
        ReadWith($"\"x\":{deep}");
    }

    [Fact]
    public void Oversize_body_is_413()
    {
        var limits = new ChatRequestLimits { MaxBodyBytes = 64 };
        var error = Reject("""{"model":"m","messages":[{"role":"user","content":"0123456789012345678901234567890123456789"}]}""", limits);
        Assert.Equal(413, error.Status);
        Assert.Equal("request_too_large", error.Code);
    }

    // --- Required members ---

    [Fact]
    public void Missing_model()
    {
        AssertInvalid(Reject("""{"messages":[{"role":"user","content":"x"}]}"""), "model", "missing_required_parameter", "Missing required parameter: 'model'.");
    }

    [Fact]
    public void Null_or_empty_model()
    {
        AssertInvalid(Reject("""{"model":null,"messages":[{"role":"user","content":"x"}]}"""), "model", "invalid_type");
        AssertInvalid(Reject("""{"model":"","messages":[{"role":"user","content":"x"}]}"""), "model", "invalid_value");
    }

    [Fact]
    public void Missing_messages()
    {
        AssertInvalid(Reject("""{"model":"m"}"""), "messages", "missing_required_parameter");
        AssertInvalid(Reject("""{"model":"m","messages":null}"""), "messages", "invalid_type");
    }

    [Fact]
    public void Empty_messages()
    {
        AssertInvalid(RejectWith("", "[]"), "messages", "empty_array", "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.");
    }

    [Fact]
    public void Too_many_messages()
    {
        var limits = new ChatRequestLimits { MaxMessages = 2 };
        var error = Reject("""{"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"user","content":"c"}]}""", limits);
        AssertInvalid(error, "messages", "array_above_max_length");
    }

    // --- Wrong types name a dotted path ---

    [Theory]
    [InlineData("\"model\":1", "model", "a string", "an integer")]
    [InlineData("\"temperature\":\"hot\"", "temperature", "a decimal", "a string")]
    [InlineData("\"top_p\":[]", "top_p", "a decimal", "an array")]
    [InlineData("\"n\":1.5", "n", "an integer", "a decimal")]
    [InlineData("\"n\":\"2\"", "n", "an integer", "a string")]
    [InlineData("\"stream\":\"true\"", "stream", "a boolean", "a string")]
    [InlineData("\"stream\":1", "stream", "a boolean", "an integer")]
    [InlineData("\"stream_options\":true", "stream_options", "an object", "a boolean")]
    [InlineData("\"stop\":5", "stop", "one of a string or array of strings", "an integer")]
    [InlineData("\"stop\":[\"a\",5]", "stop[1]", "a string", "an integer")]
    [InlineData("\"max_tokens\":\"5\"", "max_tokens", "an integer", "a string")]
    [InlineData("\"max_completion_tokens\":false", "max_completion_tokens", "an integer", "a boolean")]
    [InlineData("\"presence_penalty\":{}", "presence_penalty", "a decimal", "an object")]
    [InlineData("\"frequency_penalty\":\"0\"", "frequency_penalty", "a decimal", "a string")]
    [InlineData("\"logit_bias\":[]", "logit_bias", "an object", "an array")]
    [InlineData("\"logit_bias\":{\"5\":\"x\"}", "logit_bias.5", "a decimal", "a string")]
    [InlineData("\"logprobs\":1", "logprobs", "a boolean", "an integer")]
    [InlineData("\"seed\":\"1\"", "seed", "an integer", "a string")]
    [InlineData("\"seed\":1.5", "seed", "an integer", "a decimal")]
    [InlineData("\"response_format\":\"json_object\"", "response_format", "an object", "a string")]
    [InlineData("\"response_format\":{\"type\":1}", "response_format.type", "a string", "an integer")]
    [InlineData("\"tools\":{}", "tools", "an array", "an object")]
    [InlineData("\"tools\":[1]", "tools[0]", "an object", "an integer")]
    [InlineData("\"tools\":[{\"type\":\"function\",\"function\":[]}]", "tools[0].function", "an object", "an array")]
    [InlineData("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":\"{}\"}}]", "tools[0].function.parameters", "an object", "a string")]
    [InlineData("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"strict\":\"yes\"}}]", "tools[0].function.strict", "a boolean", "a string")]
    [InlineData("\"tool_choice\":1", "tool_choice", "one of a string or object", "an integer")]
    [InlineData("\"parallel_tool_calls\":\"no\"", "parallel_tool_calls", "a boolean", "a string")]
    [InlineData("\"user\":5", "user", "a string", "an integer")]
    [InlineData("\"store\":\"yes\"", "store", "a boolean", "a string")]
    [InlineData("\"metadata\":[]", "metadata", "an object", "an array")]
    [InlineData("\"metadata\":{\"k\":1}", "metadata.k", "a string", "an integer")]
    [InlineData("\"modalities\":\"text\"", "modalities", "an array", "a string")]
    [InlineData("\"prediction\":\"x\"", "prediction", "an object", "a string")]
    [InlineData("\"functions\":{}", "functions", "an array", "an object")]
    [InlineData("\"function_call\":1", "function_call", "one of a string or object", "an integer")]
    public void Wrong_parameter_types(string member, string param, string expected, string got)
    {
        AssertInvalid(RejectWith(member), param, "invalid_type", $"Invalid type for '{param}': expected {expected}, but got {got} instead.");
    }

    [Theory]
    [InlineData("[1]", "messages[0]", "an object")]
    [InlineData("{}", "messages", "an array")]
    [InlineData("[{\"role\":1,\"content\":\"x\"}]", "messages[0].role", "a string")]
    [InlineData("[{\"role\":\"user\",\"content\":5}]", "messages[0].content", "one of a string or array of objects")]
    [InlineData("[{\"role\":\"user\",\"content\":null}]", "messages[0].content", "one of a string or array of objects")]
    [InlineData("[{\"role\":\"user\",\"content\":[5]}]", "messages[0].content[0]", "an object")]
    [InlineData("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":1}]}]", "messages[0].content[0].text", "a string")]
    [InlineData("[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":\"https://x\"}]}]", "messages[0].content[0].image_url", "an object")]
    [InlineData("[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":1}}]}]", "messages[0].content[0].image_url.url", "a string")]
    [InlineData("[{\"role\":\"user\",\"content\":\"x\",\"name\":1}]", "messages[0].name", "a string")]
    [InlineData("[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":{}}]", "messages[1].tool_calls", "an array")]
    [InlineData("[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":{}}}]}]", "messages[0].tool_calls[0].function.arguments", "a string")]
    [InlineData("[{\"role\":\"tool\",\"content\":\"x\",\"tool_call_id\":5}]", "messages[0].tool_call_id", "a string")]
    [InlineData("[{\"role\":\"assistant\",\"content\":\"x\",\"refusal\":1}]", "messages[0].refusal", "a string")]
    public void Wrong_message_types_name_the_path(string messages, string param, string expected)
    {
        AssertInvalid(RejectWith("", messages), param, "invalid_type", $"Invalid type for '{param}': expected {expected}");
    }

    // --- Ranges ---

    [Theory]
    [InlineData("\"temperature\":-0.1", "temperature", "decimal_below_min_value", "Expected a value >= 0, but got -0.1 instead.")]
    [InlineData("\"temperature\":2.01", "temperature", "decimal_above_max_value", "Expected a value <= 2, but got 2.01 instead.")]
    [InlineData("\"temperature\":1e400", "temperature", "decimal_above_max_value", "1e400")]
    [InlineData("\"temperature\":-1e400", "temperature", "decimal_below_min_value", null)]
    [InlineData("\"top_p\":1.5", "top_p", "decimal_above_max_value", null)]
    [InlineData("\"top_p\":-1", "top_p", "decimal_below_min_value", null)]
    [InlineData("\"n\":0", "n", "integer_below_min_value", "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.")]
    [InlineData("\"n\":129", "n", "integer_above_max_value", null)]
    [InlineData("\"n\":1e400", "n", "integer_above_max_value", null)]
    [InlineData("\"n\":99999999999999999999999", "n", "integer_above_max_value", null)]
    [InlineData("\"max_tokens\":0", "max_tokens", "integer_below_min_value", null)]
    [InlineData("\"max_tokens\":-5", "max_tokens", "integer_below_min_value", null)]
    [InlineData("\"max_tokens\":2147483648", "max_tokens", "integer_above_max_value", null)]
    [InlineData("\"max_completion_tokens\":0", "max_completion_tokens", "integer_below_min_value", null)]
    [InlineData("\"presence_penalty\":2.5", "presence_penalty", "decimal_above_max_value", null)]
    [InlineData("\"presence_penalty\":-2.5", "presence_penalty", "decimal_below_min_value", null)]
    [InlineData("\"frequency_penalty\":3", "frequency_penalty", "decimal_above_max_value", null)]
    [InlineData("\"frequency_penalty\":-3", "frequency_penalty", "decimal_below_min_value", null)]
    [InlineData("\"logprobs\":true,\"top_logprobs\":21", "top_logprobs", "integer_above_max_value", null)]
    [InlineData("\"logprobs\":true,\"top_logprobs\":-1", "top_logprobs", "integer_below_min_value", null)]
    [InlineData("\"seed\":9223372036854775808", "seed", "integer_above_max_value", null)]
    [InlineData("\"seed\":-9223372036854775809", "seed", "integer_below_min_value", null)]
    [InlineData("\"seed\":1e19", "seed", "integer_above_max_value", null)]
    [InlineData("\"logit_bias\":{\"1\":101}", "logit_bias.1", "decimal_above_max_value", null)]
    [InlineData("\"logit_bias\":{\"1\":-100.5}", "logit_bias.1", "decimal_below_min_value", null)]
    public void Out_of_range_values(string member, string param, string code, string? message)
    {
        AssertInvalid(RejectWith(member), param, code, message);
    }

    [Theory]
    [InlineData("\"temperature\":2")]
    [InlineData("\"temperature\":0")]
    [InlineData("\"top_p\":0")]
    [InlineData("\"n\":128")]
    [InlineData("\"n\":1.0")]
    [InlineData("\"n\":1e2")]
    [InlineData("\"max_tokens\":1")]
    [InlineData("\"logprobs\":true,\"top_logprobs\":0")]
    [InlineData("\"seed\":9223372036854775807")]
    [InlineData("\"logit_bias\":{\"0\":100,\"1\":-100}")]
    public void Boundary_values_are_accepted(string member) => ReadWith(member);

    [Fact]
    public void Whole_number_forms_are_read_as_integers()
    {
        Assert.Equal(100, ReadWith("\"n\":1e2").N);
        Assert.Equal(3, ReadWith("\"max_tokens\":3.0").MaxTokens);
    }

    // --- Enumerations and cross-field rules ---

    [Fact]
    public void Unknown_role()
    {
        var error = RejectWith("", """[{"role":"robot","content":"x"}]""");
        AssertInvalid(error, "messages[0].role", "invalid_value",
            "Invalid value: 'robot'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.");
    }

    [Fact]
    public void Missing_role()
    {
        AssertInvalid(RejectWith("", """[{"content":"x"}]"""), "messages[0].role", "missing_required_parameter");
    }

    [Theory]
    [InlineData("system")]
    [InlineData("developer")]
    [InlineData("user")]
    [InlineData("tool")]
    public void Content_is_required_except_for_assistant_tool_calls(string role)
    {
        var extra = role == "tool" ? ",\"tool_call_id\":\"c\"" : "";
        AssertInvalid(RejectWith("", $$"""[{"role":"{{role}}"{{extra}}}]"""), "messages[0].content", "missing_required_parameter");
    }

    [Fact]
    public void Assistant_without_content_or_tool_calls_is_rejected()
    {
        AssertInvalid(RejectWith("", """[{"role":"user","content":"x"},{"role":"assistant"}]"""), "messages[1].content", "missing_required_parameter");
        AssertInvalid(RejectWith("", """[{"role":"user","content":"x"},{"role":"assistant","content":null}]"""), "messages[1].content", "invalid_type");
    }

    [Fact]
    public void Empty_content_parts()
    {
        AssertInvalid(RejectWith("", """[{"role":"user","content":[]}]"""), "messages[0].content", "empty_array");
    }

    [Theory]
    [InlineData("system", "image_url")]
    [InlineData("developer", "refusal")]
    [InlineData("tool", "image_url")]
    [InlineData("assistant", "image_url")]
    [InlineData("user", "refusal")]
    [InlineData("user", "video")]
    public void Content_part_types_depend_on_role(string role, string type)
    {
        var extra = role == "tool" ? ",\"tool_call_id\":\"c\"" : "";
        var messages = role == "tool"
            ? $$$"""[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool"{{{extra}}},"content":[{"type":"{{{type}}}"}]}]"""
            : $$"""[{"role":"{{role}}","content":[{"type":"{{type}}"}]}]""";
        var index = role == "tool" ? 1 : 0;
        AssertInvalid(RejectWith("", messages), $"messages[{index}].content[0].type", "invalid_value", $"Invalid value: '{type}'.");
    }

    [Fact]
    public void Content_parts_of_every_kind_are_read()
    {
        var request = ReadWith("", """
            [{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}},
              {"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}},{"type":"file","file":{"file_id":"file-1"}}]},
             {"role":"assistant","content":[{"type":"text","text":"b"},{"type":"refusal","refusal":"no"}]}]
            """);
        var parts = request.Messages[0].Content!.Parts!;
        Assert.Equal("low", parts[1].ImageUrl!.Detail);
        Assert.Equal("wav", parts[2].InputAudio!.Format);
        Assert.Equal("file-1", parts[3].File!.FileId);
        Assert.Equal("bno", request.Messages[1].GetText());
    }

    [Theory]
    [InlineData("""{"type":"text"}""", "messages[0].content[0].text", "missing_required_parameter")]
    [InlineData("""{"text":"x"}""", "messages[0].content[0].type", "missing_required_parameter")]
    [InlineData("""{"type":"image_url"}""", "messages[0].content[0].image_url", "missing_required_parameter")]
    [InlineData("""{"type":"image_url","image_url":{}}""", "messages[0].content[0].image_url.url", "missing_required_parameter")]
    [InlineData("""{"type":"image_url","image_url":{"url":"https://x","detail":"huge"}}""", "messages[0].content[0].image_url.detail", "invalid_value")]
    [InlineData("""{"type":"input_audio","input_audio":{"data":"x","format":"ogg"}}""", "messages[0].content[0].input_audio.format", "invalid_value")]
    [InlineData("""{"type":"input_audio","input_audio":{"format":"wav"}}""", "messages[0].content[0].input_audio.data", "missing_required_parameter")]
    [InlineData("""{"type":"file","file":"x"}""", "messages[0].content[0].file", "invalid_type")]
    public void Content_part_members_are_checked(string part, string param, string code)
    {
        AssertInvalid(RejectWith("", $$"""[{"role":"user","content":[{{part}}]}]"""), param, code);
    }

    [Fact]
    public void Tool_message_needs_tool_call_id()
    {
        AssertInvalid(RejectWith("", """[{"role":"tool","content":"42"}]"""), "messages[0].tool_call_id", "missing_required_parameter");
    }

    [Fact]
    public void Tool_message_must_answer_a_preceding_tool_call()
    {
        var error = RejectWith("", """[{"role":"user","content":"x"},{"role":"tool","content":"42","tool_call_id":"c1"}]""");
        AssertInvalid(error, "messages[1].role", null, "must be a response to a preceding message with 'tool_calls'");

        error = RejectWith("", """
            [{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
             {"role":"tool","content":"42","tool_call_id":"c2"}]
            """);
        AssertInvalid(error, "messages[1].tool_call_id", null, "'tool_call_id' of 'c2' not found");
    }

    [Fact]
    public void Every_tool_call_needs_an_answer()
    {
        var error = RejectWith("", """
            [{"role":"user","content":"x"},
             {"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}},{"id":"c2","type":"function","function":{"name":"f","arguments":"{}"}}]},
             {"role":"tool","content":"1","tool_call_id":"c1"},
             {"role":"user","content":"y"}]
            """);
        AssertInvalid(error, "messages[1]", null, "did not have response messages: c2");
    }

    [Fact]
    public void A_full_tool_conversation_is_accepted()
    {
        var request = ReadWith(
            "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]",
            """
            [{"role":"user","content":"x"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
             {"role":"tool","content":[{"type":"text","text":"1"}],"tool_call_id":"c1"},
             {"role":"assistant","content":"done"}]
            """);
        Assert.Equal("c1", request.Messages[1].ToolCalls![0].Id);
        Assert.Null(request.Messages[1].Content);
        Assert.Equal("c1", request.Messages[2].ToolCallId);
    }

    [Theory]
    [InlineData("""{"type":"function","function":{"name":"f","arguments":"{}"}}""", "messages[0].tool_calls[0].id")]
    [InlineData("""{"id":"c","function":{"name":"f","arguments":"{}"}}""", "messages[0].tool_calls[0].type")]
    [InlineData("""{"id":"c","type":"function"}""", "messages[0].tool_calls[0].function")]
    [InlineData("""{"id":"c","type":"function","function":{"arguments":"{}"}}""", "messages[0].tool_calls[0].function.name")]
    [InlineData("""{"id":"c","type":"function","function":{"name":"f"}}""", "messages[0].tool_calls[0].function.arguments")]
    public void Tool_call_members_are_required(string call, string param)
    {
        AssertInvalid(RejectWith("", $$"""[{"role":"assistant","tool_calls":[{{call}}]}]"""), param, "missing_required_parameter");
    }

    [Fact]
    public void Function_role_needs_a_name()
    {
        AssertInvalid(RejectWith("", """[{"role":"function","content":"x"}]"""), "messages[0].name", "missing_required_parameter");
        ReadWith("", """[{"role":"function","name":"f","content":null}]""");
    }

    [Fact]
    public void Top_logprobs_requires_logprobs()
    {
        AssertInvalid(RejectWith("\"top_logprobs\":2"), "top_logprobs", "invalid_value", "'logprobs' must be set to true");
        AssertInvalid(RejectWith("\"logprobs\":false,\"top_logprobs\":2"), "top_logprobs", "invalid_value");
    }

    [Fact]
    public void Stream_options_require_stream()
    {
        AssertInvalid(RejectWith("\"stream_options\":{\"include_usage\":true}"), "stream_options", "invalid_value");
        Assert.False(ReadWith("\"stream\":true,\"stream_options\":{\"include_usage\":false}").IncludeUsage);
    }

    [Fact]
    public void Stop_rules()
    {
        AssertInvalid(RejectWith("\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]"), "stop", "array_above_max_length",
            "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length 5 instead.");
        AssertInvalid(RejectWith("\"stop\":[]"), "stop", "empty_array");
        Assert.Equal(4, ReadWith("\"stop\":[\"a\",\"b\",\"c\",\"d\"]").Stop!.Count);
    }

    [Theory]
    [InlineData("\"x\"")]
    [InlineData("\"-1\"")]
    [InlineData("\"1.5\"")]
    [InlineData("\" 1\"")]
    [InlineData("\"99999999999\"")]
    [InlineData("\"\"")]
    public void Logit_bias_keys_must_be_token_ids(string key)
    {
        AssertInvalid(RejectWith($"\"logit_bias\":{{{key}:1}}"), "logit_bias", "invalid_value", "Invalid key in 'logit_bias'");
    }

    [Fact]
    public void Response_format_rules()
    {
        AssertInvalid(RejectWith("\"response_format\":{\"type\":\"yaml\"}"), "response_format.type", "invalid_value",
            "Invalid value: 'yaml'. Supported values are: 'json_object', 'json_schema', and 'text'.");
        AssertInvalid(RejectWith("\"response_format\":{}"), "response_format.type", "missing_required_parameter");
        AssertInvalid(RejectWith("\"response_format\":{\"type\":\"json_schema\"}"), "response_format.json_schema", "missing_required_parameter");
        AssertInvalid(RejectWith("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{}}}"), "response_format.json_schema.name", "missing_required_parameter");
        AssertInvalid(RejectWith("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"has space\"}}"), "response_format.json_schema.name", "invalid_value", "does not match pattern");
        AssertInvalid(RejectWith("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"\"}}"), "response_format.json_schema.name", "empty_string");
        AssertInvalid(RejectWith($"\"response_format\":{{\"type\":\"json_schema\",\"json_schema\":{{\"name\":\"{new string('a', 65)}\"}}}}"), "response_format.json_schema.name", "string_above_max_length");
        AssertInvalid(RejectWith("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":[]}}"), "response_format.json_schema.schema", "invalid_type");
        AssertInvalid(RejectWith("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"strict\":1}}"), "response_format.json_schema.strict", "invalid_type");
        Assert.Equal(new string('a', 64), ReadWith($"\"response_format\":{{\"type\":\"json_schema\",\"json_schema\":{{\"name\":\"{new string('a', 64)}\"}}}}").ResponseFormat!.JsonSchema!.Name);
        Assert.Equal("text", ReadWith("\"response_format\":{\"type\":\"text\"}").ResponseFormat!.Type);
    }

    [Theory]
    [InlineData("""[{"function":{"name":"f"}}]""", "tools[0].type", "missing_required_parameter")]
    [InlineData("""[{"type":"retrieval"}]""", "tools[0].type", "invalid_value")]
    [InlineData("""[{"type":"function"}]""", "tools[0].function", "missing_required_parameter")]
    [InlineData("""[{"type":"function","function":{}}]""", "tools[0].function.name", "missing_required_parameter")]
    [InlineData("""[{"type":"function","function":{"name":"get weather"}}]""", "tools[0].function.name", "invalid_value")]
    [InlineData("""[{"type":"function","function":{"name":"f.g"}}]""", "tools[0].function.name", "invalid_value")]
    [InlineData("""[{"type":"function","function":{"name":"fé"}}]""", "tools[0].function.name", "invalid_value")]
    [InlineData("""[{"type":"function","function":{"name":""}}]""", "tools[0].function.name", "empty_string")]
    [InlineData("""[{"type":"function","function":{"name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}]""", "tools[0].function.name", "string_above_max_length")]
    [InlineData("""[{"type":"custom"}]""", "tools[0].custom", "missing_required_parameter")]
    public void Tool_rules(string tools, string param, string code)
    {
        AssertInvalid(RejectWith($"\"tools\":{tools}"), param, code);
    }

    [Fact]
    public void Too_many_tools()
    {
        var tools = string.Join(",", Enumerable.Range(0, 129).Select(i => $$$"""{"type":"function","function":{"name":"f{{{i}}}"}}"""));
        AssertInvalid(RejectWith($"\"tools\":[{tools}]"), "tools", "array_above_max_length");
    }

    [Fact]
    public void Tool_choice_rules()
    {
        const string tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]";
        AssertInvalid(RejectWith("\"tool_choice\":\"always\""), "tool_choice", "invalid_value", "Supported values are: 'none', 'auto', and 'required'.");
        AssertInvalid(RejectWith("\"tool_choice\":\"required\""), "tool_choice", "invalid_value", "only allowed when 'tools' are specified");
        AssertInvalid(RejectWith("\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"f\"}}"), "tool_choice", "invalid_value");
        AssertInvalid(RejectWith(tools + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}"), "tool_choice.function.name", "invalid_value", "no function named 'g'");
        AssertInvalid(RejectWith(tools + ",\"tool_choice\":{\"type\":\"function\"}"), "tool_choice.function", "missing_required_parameter");
        AssertInvalid(RejectWith(tools + ",\"tool_choice\":{\"type\":\"function\",\"function\":{}}"), "tool_choice.function.name", "missing_required_parameter");
        AssertInvalid(RejectWith(tools + ",\"tool_choice\":{\"type\":\"tool\"}"), "tool_choice.type", "invalid_value");
        AssertInvalid(RejectWith(tools + ",\"tool_choice\":{\"type\":\"allowed_tools\",\"allowed_tools\":{\"mode\":\"some\",\"tools\":[]}}"), "tool_choice.allowed_tools.mode", "invalid_value");

        Assert.Same(ToolChoice.None, ReadWith("\"tool_choice\":\"none\"").ToolChoice);
        Assert.Same(ToolChoice.Auto, ReadWith("\"tool_choice\":\"auto\"").ToolChoice);
        Assert.Same(ToolChoice.Required, ReadWith(tools + ",\"tool_choice\":\"required\"").ToolChoice);
        Assert.Equal(ToolChoiceMode.AllowedTools, ReadWith(tools + ",\"tool_choice\":{\"type\":\"allowed_tools\",\"allowed_tools\":{\"mode\":\"auto\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}}").ToolChoice!.Mode);
    }

    [Fact]
    public void Other_known_fields_are_checked()
    {
        AssertInvalid(RejectWith("\"modalities\":[\"video\"]"), "modalities[0]", "invalid_value");
        AssertInvalid(RejectWith($"\"safety_identifier\":\"{new string('s', 65)}\""), "safety_identifier", "string_above_max_length");
        var manyPairs = string.Join(",", Enumerable.Range(0, 17).Select(i => $"\"k{i}\":\"v\""));
        AssertInvalid(RejectWith($"\"metadata\":{{{manyPairs}}}"), "metadata", "invalid_value");
    }

    [Fact]
    public void Oversize_strings_are_rejected_with_the_path()
    {
        var limits = new ChatRequestLimits { MaxStringLength = 10 };
        var error = Reject("""{"model":"m","messages":[{"role":"user","content":"01234567890"}]}""", limits);
        AssertInvalid(error, "messages[0].content", "string_above_max_length",
            "Invalid 'messages[0].content': string too long. Expected a string with maximum length 10, but got a string with length 11 instead.");
        // Escapes count once decoded: ten escaped characters fit.
        Read("""{"model":"m","messages":[{"role":"user","content":"\u0041\u0041\u0041\u0041\u0041\u0041\u0041\u0041\u0041\u0041"}]}""", limits);
    }

    [Fact]
    public void Unknown_members_are_ignored_everywhere()
    {
        var request = Read("""
            {"model":"m","messages":[{"role":"user","content":"x","weird":true}],"frobnicate":[1,{"a":null}],"stream_options":null}
            """);
        Assert.Single(request.Messages);
    }

    [Fact]
    public void Duplicate_members_take_the_last_value()
    {
        Assert.Equal(0.5, Read("""{"model":"m","temperature":1,"temperature":0.5,"messages":[{"role":"user","content":"x"}]}""").Temperature);
    }
}
