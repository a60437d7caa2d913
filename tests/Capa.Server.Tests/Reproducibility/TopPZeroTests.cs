using System.Net;
using System.Text;
using System.Text.Json;

namespace Capa.Server.Tests.Reproducibility;

/// <summary>
/// <c>top_p: 0</c> is inside OpenAI's range, so the wire lets it through and the engine must serve it: it keeps the most
/// likely token alone, so whatever the temperature and seed the answer is the one temperature 0 gives.
/// </summary>
public sealed class TopPZeroTests(TinyServerFixture fixture) : IClassFixture<TinyServerFixture>
{
    private async Task<JsonElement> PostAsync(string path, object body)
    {
        using var response = await fixture.Server.Http.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    private async Task<string> ChatAsync(double temperature, double? topP, long seed)
    {
        var body = await PostAsync("/v1/chat/completions", new Dictionary<string, object?>
        {
            ["model"] = "capa-tiny",
            ["messages"] = new[] { new { role = "user", content = "Tell me a story about a journey to Mars." } },
            ["max_tokens"] = 12,
            ["temperature"] = temperature,
            ["top_p"] = topP,
            ["seed"] = seed,
        });
        return body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }

    private async Task<string> RespondAsync(double temperature, double? topP)
    {
        var body = await PostAsync("/v1/responses", new Dictionary<string, object?>
        {
            ["model"] = "capa-tiny",
            ["input"] = "Tell me a story about a journey to Mars.",
            ["max_output_tokens"] = 16,
            ["temperature"] = temperature,
            ["top_p"] = topP,
            ["store"] = false,
        });
        if (topP is { } echoed)
        {
            Assert.Equal(echoed, body.GetProperty("top_p").GetDouble());
        }

        return body.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString()!;
    }

    [Fact]
    public async Task Chat_with_top_p_0_answers_what_temperature_0_answers_for_every_seed()
    {
        var greedy = await ChatAsync(temperature: 0, topP: null, seed: 1);

        Assert.Equal(greedy, await ChatAsync(temperature: 1.5, topP: 0, seed: 1));
        Assert.Equal(greedy, await ChatAsync(temperature: 1.5, topP: 0, seed: 2));
    }

    [Fact]
    public async Task Responses_with_top_p_0_answer_what_temperature_0_answers()
    {
        var greedy = await RespondAsync(temperature: 0, topP: null);

        Assert.Equal(greedy, await RespondAsync(temperature: 1.5, topP: 0));
    }
}
