using System.Net;
using System.Text;
using Xunit.Abstractions;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Chat;

/// <summary>
/// More than a thousand generated bad bodies over HTTP: every one gets a 4xx in OpenAI's shape, and the server stays
/// healthy. The model is a real one, so a body wrongly accepted would come back 200 and fail the test.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class MalformedInputBatteryTests(ServerFixture fixture, ITestOutputHelper output)
{
    private const string Valid =
        """{"model":"local-chat","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi"}]}],"temperature":0.7,"top_p":0.9,"n":1,"stop":["x"],"max_tokens":16,"stream":false,"user":"battery"}""";

    [Fact]
    public async Task EveryBadBody_Is4xx_InOpenAIShape_AndTheServerStaysHealthy()
    {
        var cases = BadBodies().ToList();
        Assert.True(cases.Count >= 1000, $"only {cases.Count} cases");
        output.WriteLine($"{cases.Count} bad bodies");

        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var gate = new SemaphoreSlim(8);
        var tasks = cases.Select(async item =>
        {
            await gate.WaitAsync();
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new ByteArrayContent(item.Body) };
                request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
                request.Headers.Add("Authorization", "Bearer " + ServerFixture.ApiKey);
                using var response = await fixture.Server.Http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                if (status is < 400 or > 499)
                {
                    failures.Add($"{item.Name}: {status} {Trim(text)}");
                    return;
                }

                try
                {
                    ErrorAssert.Shape(text);
                }
                catch (Exception e)
                {
                    failures.Add($"{item.Name}: not OpenAI's shape ({e.GetType().Name}): {Trim(text)}");
                }
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(tasks);

        Assert.True(failures.IsEmpty, $"{failures.Count} of {cases.Count} failed:\n" + string.Join("\n", failures.Take(30)));
        using var health = await fixture.Server.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var ok = await fixture.Server.Http.SendAsync(SseTestReader.Post(Valid));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    private static string Trim(string text) => text.Length > 200 ? text[..200] : text;

    private static IEnumerable<(string Name, byte[] Body)> BadBodies()
    {
        var valid = Encoding.UTF8.GetBytes(Valid);

        // Every strict prefix of the valid body (including the empty body).
        for (var length = 0; length < valid.Length; length++)
        {
            yield return ($"truncated at {length}", valid[..length]);
        }

        // The valid body with one structural character removed.
        foreach (var position in StructuralPositions(Valid))
        {
            yield return ($"without '{Valid[position]}' at {position}", Encoding.UTF8.GetBytes(Valid.Remove(position, 1)));
        }

        // Wrong JSON types for each parameter.
        var wrongTypes = new Dictionary<string, string[]>
        {
            ["model"] = ["1", "{}", "[]", "true", "[\"local-chat\"]"],
            ["messages"] = ["\"Hi\"", "1", "{}", "true", "[1]", "[\"Hi\"]", "[[]]", "[null]", "[]"],
            ["temperature"] = ["\"0.5\"", "{}", "[]", "true", "3", "-0.1", "2.5"],
            ["top_p"] = ["\"1\"", "{}", "[]", "false", "1.5", "-1"],
            ["n"] = ["\"1\"", "{}", "[]", "true", "0", "-1", "129", "1.5"],
            ["stream"] = ["\"yes\"", "1", "{}", "[]"],
            ["stop"] = ["1", "{}", "true", "[1]", "[\"a\",\"b\",\"c\",\"d\",\"e\"]"],
            ["max_tokens"] = ["\"16\"", "{}", "[]", "true", "1.5", "-1"],
            ["max_completion_tokens"] = ["\"16\"", "{}", "[]", "true", "-5"],
            ["presence_penalty"] = ["\"0\"", "{}", "[]", "true", "3", "-2.5"],
            ["frequency_penalty"] = ["\"0\"", "{}", "[]", "true", "2.5"],
            ["logprobs"] = ["\"true\"", "1", "{}", "[]"],
            ["top_logprobs"] = ["\"2\"", "{}", "[]", "true", "21", "-1"],
            ["seed"] = ["\"42\"", "{}", "[]", "true", "1.5"],
            ["logit_bias"] = ["1", "\"x\"", "[]", "true", "{\"abc\":1}", "{\"1\":\"x\"}"],
            ["response_format"] = ["1", "\"json\"", "[]", "true", "{}", "{\"type\":1}", "{\"type\":\"nope\"}"],
            ["tools"] = ["1", "\"x\"", "{}", "true", "[1]", "[{}]", "[{\"type\":\"function\"}]"],
            ["tool_choice"] = ["1", "[]", "true", "\"sometimes\"", "{\"type\":\"function\"}"],
            ["stream_options"] = ["1", "\"x\"", "[]", "true", "{\"include_usage\":\"yes\"}"],
            ["user"] = ["1", "{}", "[]", "true"],
            ["parallel_tool_calls"] = ["\"yes\"", "1", "{}", "[]"],
        };
        foreach (var (field, values) in wrongTypes)
        {
            foreach (var value in values)
            {
                yield return ($"{field}={value}", Encoding.UTF8.GetBytes(WithField(field, value)));
            }
        }

        // Bad messages.
        string[] badMessages =
        [
            """[{"role":"wizard","content":"Hi"}]""",
            """[{"content":"Hi"}]""",
            """[{"role":1,"content":"Hi"}]""",
            """[{"role":"user","content":1}]""",
            """[{"role":"user","content":{}}]""",
            """[{"role":"user","content":[{"type":"text"}]}]""",
            """[{"role":"user","content":[{"type":"text","text":1}]}]""",
            """[{"role":"user","content":[{"type":"audio_blob","data":"x"}]}]""",
            """[{"role":"user","content":[{"type":"image_url","image_url":1}]}]""",
            """[{"role":"user","content":[1]}]""",
            """[{"role":"tool","content":"x"}]""",
            """[{"role":"user","content":"Hi","name":1}]""",
            """[{"role":"assistant","tool_calls":1}]""",
            """[{"role":"assistant","tool_calls":[{"id":"a","type":"function"}]}]""",
            """["user"]""",
        ];
        foreach (var messages in badMessages)
        {
            yield return ($"messages={messages}", Encoding.UTF8.GetBytes(WithField("messages", messages)));
        }

        // Huge and out-of-range numbers.
        string[] hugeNumbers = ["1e309", "-1e309", "1" + new string('0', 400), "99999999999999999999", "1e20", "123456789012345678901234567890.5"];
        foreach (var field in new[] { "temperature", "top_p", "n", "max_tokens", "top_logprobs", "presence_penalty", "seed", "max_completion_tokens" })
        {
            foreach (var number in hugeNumbers)
            {
                yield return ($"{field}={number[..Math.Min(number.Length, 20)]}", Encoding.UTF8.GetBytes(WithField(field, number)));
            }
        }

        // Deep nesting, in several places and shapes.
        foreach (var depth in new[] { 65, 100, 1000, 10_000, 100_000 })
        {
            var arrays = new string('[', depth) + new string(']', depth);
            var objects = string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
            yield return ($"deep arrays {depth} as body", Encoding.UTF8.GetBytes(arrays));
            yield return ($"deep objects {depth} as body", Encoding.UTF8.GetBytes(objects));
            yield return ($"deep arrays {depth} in unknown field", Encoding.UTF8.GetBytes(WithField("x_extra", arrays)));
            yield return ($"deep objects {depth} in metadata", Encoding.UTF8.GetBytes(WithField("metadata", objects)));
            yield return ($"deep arrays {depth} in content", Encoding.UTF8.GetBytes(WithField("messages", "[{\"role\":\"user\",\"content\":" + arrays + "}]")));
            yield return ($"unclosed arrays {depth}", Encoding.UTF8.GetBytes(new string('[', depth)));
        }

        // Invalid UTF-8 inside strings and between tokens.
        byte[][] badSequences = [[0xFF], [0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80], [0xFE, 0xFF]];
        var stringPositions = StringInteriorPositions(Valid).Where((_, i) => i % 5 == 0).ToList();
        foreach (var bad in badSequences)
        {
            foreach (var position in stringPositions)
            {
                yield return ($"invalid UTF-8 {Convert.ToHexString(bad)} at {position}", [.. valid[..position], .. bad, .. valid[position..]]);
            }

            yield return ($"invalid UTF-8 {Convert.ToHexString(bad)} before body", [.. bad, .. valid]);
        }

        // Not JSON at all: seeded random bytes and text.
        var random = new Random(20261124);
        for (var i = 0; i < 250; i++)
        {
            var bytes = new byte[random.Next(1, 300)];
            random.NextBytes(bytes);
            bytes[0] = bytes[0] == (byte)'{' ? (byte)'}' : bytes[0];
            yield return ($"random bytes #{i}", bytes);
        }

        const string alphabet = "{}[]\":,0123456789.eE+-truefalsnl \\abc";
        for (var i = 0; i < 150; i++)
        {
            var chars = new char[random.Next(1, 200)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            yield return ($"random json-ish text #{i}", Encoding.UTF8.GetBytes(new string(chars)));
        }

        // Valid JSON that is not a request object.
        foreach (var other in new[] { "null", "1", "\"text\"", "[]", "[{}]", "true", "{}", "{\"model\":\"local-chat\"}", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}" })
        {
            yield return ($"json {other}", Encoding.UTF8.GetBytes(other));
        }

        // Oversize, with Content-Length.
        foreach (var size in new[] { ServerFixture.MaxBodyBytes + 1, ServerFixture.MaxBodyBytes * 2, ServerFixture.MaxBodyBytes * 16 })
        {
            yield return ($"oversize {size}", Encoding.UTF8.GetBytes(WithField("pad", "\"" + new string('x', (int)size) + "\"")));
        }
    }

    private static string WithField(string field, string json)
    {
        // Replace the field when the valid body has it, else add it at the end.
        var marker = $"\"{field}\":";
        var start = Valid.IndexOf(marker, StringComparison.Ordinal);
        if (start < 0)
        {
            return Valid[..^1] + "," + marker + json + "}";
        }

        var valueStart = start + marker.Length;
        var valueEnd = EndOfValue(Valid, valueStart);
        return Valid[..valueStart] + json + Valid[valueEnd..];
    }

    private static int EndOfValue(string json, int start)
    {
        var depth = 0;
        var inString = false;
        for (var i = start; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                    if (depth == 0)
                    {
                        return i + 1;
                    }
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    inString = true;
                    break;
                case '{' or '[':
                    depth++;
                    break;
                case '}' or ']':
                    if (depth == 0)
                    {
                        return i;
                    }

                    depth--;
                    if (depth == 0)
                    {
                        return i + 1;
                    }

                    break;
                case ',' when depth == 0:
                    return i;
            }
        }

        return json.Length;
    }

    private static IEnumerable<int> StructuralPositions(string json)
    {
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (c == '"')
            {
                inString = !inString;
                yield return i;
            }
            else if (!inString && c is '{' or '}' or '[' or ']' or ':' or ',')
            {
                yield return i;
            }
        }
    }

    private static IEnumerable<int> StringInteriorPositions(string json)
    {
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            if (json[i] == '"')
            {
                inString = !inString;
            }
            else if (inString)
            {
                yield return i;
            }
        }
    }
}
