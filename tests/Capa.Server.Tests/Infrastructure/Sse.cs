using System.Text;

namespace Capa.Server.Tests.Infrastructure;

/// <summary>Reads the <c>data:</c> payloads of a server-sent event body.</summary>
internal static class SseTestReader
{
    public static List<string> DataOf(string body) =>
        body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l[6..]))
            .Where(lines => lines.Any())
            .Select(lines => string.Join("\n", lines))
            .ToList();

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static string ChatBody(string model, string user, bool stream = false, string extra = "") =>
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"Hi"}],"user":"{{user}}"{{(stream ? ",\"stream\":true" : "")}}{{extra}}}""";

    public static HttpRequestMessage Post(string body, string? key = ServerFixture.ApiKey, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        }

        return request;
    }

    public static string Tag() => "t" + Guid.NewGuid().ToString("N");
}
