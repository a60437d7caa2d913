using System.Net;
using System.Text;
using System.Text.Json;

namespace Capa.Server.Tests.Reproducibility;

/// <summary>
/// The parts of a seeded response the SDK does not expose verbatim (<c>n</c> choices, logprobs), compared as raw JSON.
/// </summary>
public sealed class SeededChoicesTests(TinyServerFixture fixture) : IClassFixture<TinyServerFixture>
{
    private static string Body(int n, long seed, bool logprobs, string question = "Tell me a story about a journey to Mars.", double temperature = 1.0, bool stream = false) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = "capa-tiny",
            ["messages"] = new[] { new { role = "user", content = question } },
            ["max_tokens"] = 12,
            ["temperature"] = temperature,
            ["seed"] = seed,
            ["n"] = n,
            ["logprobs"] = logprobs ? true : null,
            ["top_logprobs"] = logprobs ? 3 : null,
            ["stream"] = stream ? true : null,
            ["stream_options"] = stream ? new { include_usage = true } : null,
        });

    private async Task<JsonElement> PostAsync(string body)
    {
        using var response = await fixture.Server.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    private static string Choices(JsonElement body) => body.GetProperty("choices").GetRawText();

    private static string Content(JsonElement choice) => choice.GetProperty("message").GetProperty("content").GetString()!;

    [Fact]
    public async Task NChoices_AreReproducible_AndEachIsDeterminedBySeedAndIndex()
    {
        var first = await PostAsync(Body(n: 3, seed: 77, logprobs: false));
        var second = await PostAsync(Body(n: 3, seed: 77, logprobs: false));
        Assert.Equal(Choices(first), Choices(second));
        Assert.Equal(first.GetProperty("usage").GetRawText(), second.GetProperty("usage").GetRawText());
        Assert.Equal(first.GetProperty("system_fingerprint").GetString(), second.GetProperty("system_fingerprint").GetString());

        var choices = first.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal(3, choices.Count);
        Assert.Equal([0, 1, 2], choices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.Equal(3, choices.Select(Content).Distinct(StringComparer.Ordinal).Count());

        // Choice i depends on (seed, i) only, not on how many choices were asked for.
        var one = (await PostAsync(Body(n: 1, seed: 77, logprobs: false))).GetProperty("choices");
        var two = (await PostAsync(Body(n: 2, seed: 77, logprobs: false))).GetProperty("choices");
        Assert.Equal(choices[0].GetRawText(), one[0].GetRawText());
        Assert.Equal(choices[0].GetRawText(), two[0].GetRawText());
        Assert.Equal(choices[1].GetRawText(), two[1].GetRawText());

        // Another seed gives other choices.
        var other = await PostAsync(Body(n: 3, seed: 78, logprobs: false));
        Assert.NotEqual(Choices(first), Choices(other));
    }

    [Fact]
    public async Task ExtremeSeeds_AreReproducible_EchoedInTheHeader_AndDistinct()
    {
        var seeds = new[] { long.MinValue, -1L, 0L, 1L, long.MaxValue };
        var outputs = new List<string>();
        foreach (var seed in seeds)
        {
            var body = Body(n: 2, seed: seed, logprobs: false);
            string? first = null;
            for (var run = 0; run < 2; run++)
            {
                using var response = await fixture.Server.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK, text);
                Assert.Equal(seed.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(response.Headers.GetValues(LocalReproServer.SeedHeader)));
                using var doc = JsonDocument.Parse(text);
                var choices = Choices(doc.RootElement);
                Assert.Equal(first ?? choices, choices);
                first = choices;
            }

            outputs.Add(first!);
        }

        Assert.Equal(seeds.Length, outputs.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task UnseededNChoices_ReplayFromTheSeedHeader()
    {
        var unseeded = JsonSerializer.Serialize(new
        {
            model = "capa-tiny",
            messages = new[] { new { role = "user", content = "Tell me a story about a journey to Mars." } },
            max_tokens = 12,
            temperature = 1.0,
            n = 3,
            logprobs = true,
            top_logprobs = 3,
        });
        string seed;
        string choices;
        using (var response = await fixture.Server.Http.PostAsync("/v1/chat/completions", new StringContent(unseeded, Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            seed = Assert.Single(response.Headers.GetValues(LocalReproServer.SeedHeader));
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            choices = Choices(doc.RootElement);
        }

        var replay = await PostAsync(Body(n: 3, seed: long.Parse(seed, System.Globalization.CultureInfo.InvariantCulture), logprobs: true));
        Assert.Equal(choices, Choices(replay));
    }

    [Fact]
    public async Task Logprobs_AreByteIdentical_AcrossRuns_AndUnderConcurrentLoad()
    {
        var body = Body(n: 2, seed: 9, logprobs: true, temperature: 0.7);
        var alone = await PostAsync(body);
        var again = await PostAsync(body);
        var logprobs = alone.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content");
        Assert.True(logprobs.GetArrayLength() > 0);
        Assert.Equal(Choices(alone), Choices(again));

        // The same request amid seven others (other prompts, seeds, n and logprobs settings) that run at the same time.
        var load = Enumerable.Range(0, 7).Select(i => PostAsync(Body(n: 1 + (i % 3), seed: 1000 + i, logprobs: i % 2 == 0, question: "火星上有生命吗？" + i, temperature: 0.9))).ToList();
        var amid = PostAsync(body);
        await Task.WhenAll([.. load, amid]);
        var amidBody = await amid;
        Assert.Equal(Choices(alone), Choices(amidBody));
        Assert.Equal(alone.GetProperty("usage").GetRawText(), amidBody.GetProperty("usage").GetRawText());
    }

    [Fact]
    public async Task StreamedChoices_MatchTheNonStreamedResponse_ContentLogprobsFinishAndUsage()
    {
        var plain = await PostAsync(Body(n: 2, seed: 31, logprobs: true, temperature: 0.8));
        var raw = await PostStreamAsync(Body(n: 2, seed: 31, logprobs: true, temperature: 0.8, stream: true));

        var content = new[] { new StringBuilder(), new StringBuilder() };
        var logprobs = new[] { new List<string>(), new List<string>() };
        var finish = new string?[2];
        string? usage = null;
        var fingerprints = new HashSet<string?>();
        foreach (var data in Infrastructure.SseTestReader.DataOf(raw).Where(d => d != "[DONE]"))
        {
            using var chunk = JsonDocument.Parse(data);
            fingerprints.Add(chunk.RootElement.GetProperty("system_fingerprint").GetString());
            if (chunk.RootElement.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object)
            {
                usage = u.GetRawText();
            }

            foreach (var choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
            {
                var i = choice.GetProperty("index").GetInt32();
                if (choice.GetProperty("delta").TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
                {
                    content[i].Append(c.GetString());
                }

                if (choice.TryGetProperty("logprobs", out var lp) && lp.ValueKind == JsonValueKind.Object)
                {
                    logprobs[i].AddRange(lp.GetProperty("content").EnumerateArray().Select(t => t.GetRawText()));
                }

                if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String)
                {
                    Assert.Null(finish[i]);
                    finish[i] = f.GetString();
                }
            }
        }

        for (var i = 0; i < 2; i++)
        {
            var expected = plain.GetProperty("choices")[i];
            Assert.Equal(Content(expected), content[i].ToString());
            Assert.Equal(expected.GetProperty("finish_reason").GetString(), finish[i]);
            Assert.Equal(expected.GetProperty("logprobs").GetProperty("content").EnumerateArray().Select(t => t.GetRawText()), logprobs[i]);
        }

        Assert.Equal(plain.GetProperty("usage").GetRawText(), usage);
        Assert.Equal(plain.GetProperty("system_fingerprint").GetString(), Assert.Single(fingerprints));
    }

    private async Task<string> PostStreamAsync(string body)
    {
        using var response = await fixture.Server.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return text;
    }
}
