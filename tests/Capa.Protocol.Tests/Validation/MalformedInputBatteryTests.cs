using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Capa.Protocol.Tests.Validation;

/// <summary>
/// Generated bad bodies, deterministic (fixed seed): every one must give an OpenAI-shaped 400 (or 413 for size),
/// never an exception and never a 500.
/// </summary>
public class MalformedInputBatteryTests(ITestOutputHelper output)
{
    private const string ValidBody = """
        {"model":"gpt-4o","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":[{"type":"text","text":"héllo ✓"},{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"low"}}]},
        {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"call_1","content":"42"}],
        "temperature":0.5,"top_p":0.9,"n":1,"stream":true,"stream_options":{"include_usage":true},"stop":["\n"],"max_tokens":16,"presence_penalty":0,
        "frequency_penalty":0,"logit_bias":{"11":1},"logprobs":true,"top_logprobs":2,"seed":42,
        "response_format":{"type":"json_schema","json_schema":{"name":"out","schema":{"type":"object"},"strict":true}},
        "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"f"}},
        "parallel_tool_calls":true,"user":"u"}
        """;

    /// <summary>Top-level members whose value must not be any of the wrong-typed replacements.</summary>
    private static readonly string[] TypedMembers =
    [
        "model", "messages", "temperature", "top_p", "n", "stream", "stream_options", "stop", "max_tokens", "presence_penalty",
        "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "seed", "response_format", "tools", "tool_choice",
        "parallel_tool_calls", "user",
    ];

    private static readonly string[] WrongValues = ["null", "true", "-1", "1e400", "-1e400", "123456789012345678901234567890", "1.5", "\"s\"", "[]", "[1]", "{}", "{\"a\":1}", "[[[[[]]]]]"];

    private static readonly ChatRequestLimits BatteryLimits = new() { MaxBodyBytes = 1 << 20, MaxStringLength = 100_000 };

    [Fact]
    public void The_valid_body_is_valid()
    {
        var request = ChatRequestReaderTests.Read(ValidBody);
        Assert.Equal(4, request.Messages.Count);
    }

    [Fact]
    public void Every_generated_bad_body_gets_a_clean_error()
    {
        var count = 0;
        foreach (var (name, body) in BadBodies())
        {
            count++;
            ApiError? error;
            bool ok;
            try
            {
                ok = ChatRequestReader.TryRead(body, BatteryLimits, out _, out error);
            }
            catch (Exception ex)
            {
                Assert.Fail($"{name}: threw {ex.GetType().Name}: {ex.Message}");
                throw;
            }

            Assert.False(ok, $"{name}: accepted {Preview(body)}");
            Assert.NotNull(error);
            Assert.True(error.Status is 400 or 413, $"{name}: status {error.Status} ({error.Message})");
            Assert.False(string.IsNullOrWhiteSpace(error.Message), name);
            Assert.Equal("invalid_request_error", error.Type);

            // The wire form parses back and has all four members.
            using var document = JsonDocument.Parse(error.ToUtf8Json());
            var inner = document.RootElement.GetProperty("error");
            Assert.Equal(JsonValueKind.String, inner.GetProperty("message").ValueKind);
            Assert.Equal(JsonValueKind.String, inner.GetProperty("type").ValueKind);
            Assert.True(inner.TryGetProperty("param", out _), name);
            Assert.True(inner.TryGetProperty("code", out _), name);
        }

        output.WriteLine($"{count} bad bodies, each answered with an OpenAI-shaped 400 or 413.");
        Assert.True(count >= 1000, $"only {count} bodies");
    }

    private static string Preview(byte[] body) => Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 160)));

    private static IEnumerable<(string Name, byte[] Body)> BadBodies()
    {
        var valid = Encoding.UTF8.GetBytes(ValidBody);

        // 1. Every proper prefix of the valid body (truncation at every byte).
        for (var length = 0; length < valid.Length; length++)
        {
            // A prefix ending in trailing whitespace of a complete value would be valid; the body has none.
            yield return ($"truncated at {length}", valid[..length]);
        }

        // 2. Every typed member replaced by every wrong-typed value (skipping values that are legal for it).
        var root = JsonDocument.Parse(ValidBody).RootElement;
        foreach (var member in TypedMembers)
        {
            foreach (var wrong in WrongValues)
            {
                if (IsLegal(member, wrong))
                {
                    continue;
                }

                yield return ($"{member}={wrong}", ReplaceMember(root, member, wrong));
            }
        }

        // 3. Wrong types inside messages, tools and response_format.
        string[] nested =
        [
            """{"model":"m","messages":[{"role":"user","content":%}]}""",
            """{"model":"m","messages":[{"role":%,"content":"x"}]}""",
            """{"model":"m","messages":[%]}""",
            """{"model":"m","messages":[{"role":"user","content":[%]}]}""",
            """{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":%}]}]}""",
            """{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":%}]}]}""",
            """{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":%}}]}]}""",
            """{"model":"m","messages":[{"role":"assistant","tool_calls":%}]}""",
            """{"model":"m","messages":[{"role":"assistant","tool_calls":[%]}]}""",
            """{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":%,"type":"function","function":{"name":"f","arguments":"{}"}}]}]}""",
            """{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":%}}]}]}""",
            """{"model":"m","messages":[{"role":"tool","content":"x","tool_call_id":%}]}""",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[%]}""",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":%}]}""",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":%}}]}""",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":%}}""",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":%}}""",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":%}}}""",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":%}}""",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"stop":[%]}""",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":{"1":%}}""",
        ];
        string[] nestedWrong = ["null", "true", "-1", "1e400", "1.5", "{}", "[]", "[1]", "\"\\u0000bogus\"", "\"\\ud800\"", "\"a\\udc00\"", "\"\\x\""];
        foreach (var template in nested)
        {
            foreach (var wrong in nestedWrong)
            {
                var body = template.Replace("%", wrong, StringComparison.Ordinal);
                if (IsLegalNested(template, wrong))
                {
                    continue;
                }

                yield return ($"nested {body}", Encoding.UTF8.GetBytes(body));
            }
        }

        // 4. Huge numbers in every numeric member.
        string[] numeric = ["temperature", "top_p", "n", "max_tokens", "max_completion_tokens", "presence_penalty", "frequency_penalty", "top_logprobs", "seed"];
        string[] huge = ["1e400", "-1e400", "1e308", "-1e308", "99999999999999999999999999999999999999", "-99999999999999999999999999999999", new string('9', 5000), "1" + new string('0', 400) + ".5"];
        foreach (var member in numeric)
        {
            foreach (var number in huge)
            {
                yield return ($"{member}=huge {number.Length}", Encoding.UTF8.GetBytes($$"""{"model":"m","messages":[{"role":"user","content":"x"}],"logprobs":true,"{{member}}":{{number}}}"""));
            }
        }

        // 5. Deep nesting, in several places and shapes, up to 10,000 levels.
        foreach (var depth in new[] { 65, 100, 1000, 10_000 })
        {
            yield return ($"deep arrays {depth}", Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth)));
            yield return ($"deep unclosed {depth}", Encoding.UTF8.GetBytes(new string('[', depth)));
            var objects = new StringBuilder();
            for (var i = 0; i < depth; i++)
            {
                objects.Append("{\"a\":");
            }

            objects.Append('1').Append('}', depth);
            yield return ($"deep objects {depth}", Encoding.UTF8.GetBytes(objects.ToString()));
            yield return ($"deep in content {depth}", Encoding.UTF8.GetBytes($$"""{"model":"m","messages":[{"role":"user","content":{{new string('[', depth)}}{{new string(']', depth)}}}]}"""));
            yield return ($"deep in unknown member {depth}", Encoding.UTF8.GetBytes($$"""{"model":"m","messages":[{"role":"user","content":"x"}],"extra":{{new string('[', depth)}}{{new string(']', depth)}}}"""));
        }

        // 6. Invalid UTF-8 sequences placed inside a string value and outside.
        byte[][] invalidSequences =
        [
            [0x80], [0xBF], [0xC0, 0xAF], [0xC1, 0xBF], [0xC3], [0xC3, 0x28], [0xE0, 0x80, 0xAF], [0xE2, 0x82], [0xED, 0xA0, 0x80],
            [0xED, 0xBF, 0xBF], [0xF0, 0x82, 0x82, 0xAC], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFE], [0xFF], [0xF0, 0x9F, 0x98],
        ];
        var prefix = Encoding.UTF8.GetBytes("""{"model":"m","messages":[{"role":"user","content":"ab""");
        var suffix = Encoding.UTF8.GetBytes("""cd"}]}""");
        foreach (var sequence in invalidSequences)
        {
            yield return ($"invalid utf8 in string {Convert.ToHexString(sequence)}", [.. prefix, .. sequence, .. suffix]);
            yield return ($"invalid utf8 in model {Convert.ToHexString(sequence)}", [.. Encoding.UTF8.GetBytes("{\"model\":\""), .. sequence, .. Encoding.UTF8.GetBytes("\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")]);
            yield return ($"invalid utf8 outside {Convert.ToHexString(sequence)}", [.. sequence, .. valid]);
        }

        // 7. Random bytes, and random printable noise (fixed seed: the battery is the same on every run).
        var random = new Random(20240607);
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(1, 256)];
            random.NextBytes(bytes);
            yield return ($"random bytes {i}", bytes);
        }

        const string alphabet = "{}[]\":,0123456789.eE+-truefalsnl \\abc";
        for (var i = 0; i < 200; i++)
        {
            var chars = new char[random.Next(1, 128)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            var text = new string(chars);
            if (IsValidRequest(text))
            {
                continue;
            }

            yield return ($"random json-ish {i}", Encoding.UTF8.GetBytes(text));
        }

        // 8. Single-byte corruptions of the valid body (each replaced by a structural character).
        for (var position = 0; position < valid.Length; position += 7)
        {
            foreach (var replacement in new[] { (byte)'{', (byte)'"', (byte)']', (byte)0x00 })
            {
                var corrupted = (byte[])valid.Clone();
                if (corrupted[position] == replacement)
                {
                    continue;
                }

                corrupted[position] = replacement;
                if (IsValidRequest(corrupted))
                {
                    continue;
                }

                yield return ($"corrupted {position} with {replacement}", corrupted);
            }
        }

        // 9. Oversize: strings over the string limit and bodies over the body limit.
        yield return ("oversize content", Encoding.UTF8.GetBytes($$"""{"model":"m","messages":[{"role":"user","content":"{{new string('a', BatteryLimits.MaxStringLength + 1)}}"}]}"""));
        yield return ("oversize text part", Encoding.UTF8.GetBytes($$"""{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"{{new string('b', BatteryLimits.MaxStringLength + 1)}}"}]}]}"""));
        yield return ("oversize model", Encoding.UTF8.GetBytes($$"""{"model":"{{new string('m', BatteryLimits.MaxStringLength + 1)}}","messages":[{"role":"user","content":"x"}]}"""));
        yield return ("oversize body", new byte[BatteryLimits.MaxBodyBytes + 1]);
    }

    private static bool IsLegal(string member, string value) => (member, value) switch
    {
        // Null is "not given" for every optional member.
        (not ("model" or "messages"), "null") => true,
        ("stop", "\"s\"") => true,
        ("model", "\"s\"") => true,
        ("user", "\"s\"") => true,
        ("stream" or "logprobs" or "parallel_tool_calls", "true") => true,
        ("logit_bias", "{}") => true,
        ("stream_options", "{}" or "{\"a\":1}") => true,
        ("seed", "-1") => true,
        ("presence_penalty" or "frequency_penalty", "-1" or "1.5") => true,
        ("temperature", "1.5") => true,
        ("tools", "[]") => false,
        _ => false,
    };

    private static bool IsLegalNested(string template, string wrong)
    {
        var body = template.Replace("%", wrong, StringComparison.Ordinal);
        return IsValidRequest(body);
    }

    private static bool IsValidRequest(string text) => IsValidRequest(Encoding.UTF8.GetBytes(text));

    private static bool IsValidRequest(byte[] body) => ChatRequestReader.TryRead(body, out _, out _);

    private static byte[] ReplaceMember(JsonElement root, string member, string rawValue)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals(member))
                {
                    writer.WritePropertyName(member);
                    writer.WriteRawValue(rawValue, skipInputValidation: true);
                }
                else
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
