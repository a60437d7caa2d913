using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Capa.Models.Tests.Hub;

/// <summary>A request the fake hub received.</summary>
internal sealed record FakeRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers)
{
    public string Path => Target.Split('?', 2)[0];

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>What the fake hub answers instead of its default, set by a test.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Body">The whole body (its length is the Content-Length sent).</param>
/// <param name="Headers">Extra headers.</param>
/// <param name="CutAfterBytes">Send only this many body bytes, then close the connection.</param>
/// <param name="StallAfterBytes">Send only this many body bytes, then send nothing until the client hangs up.</param>
internal sealed record FakeResponse(int Status, byte[] Body, IReadOnlyDictionary<string, string>? Headers = null, int? CutAfterBytes = null, int? StallAfterBytes = null)
{
    public static FakeResponse Json(int status, string json, params (string Name, string Value)[] headers) =>
        new(status, Encoding.UTF8.GetBytes(json), headers.ToDictionary(h => h.Name, h => h.Value));
}

/// <summary>A file of a fake repository.</summary>
internal sealed record FakeFile(byte[] Content, bool Lfs = false)
{
    /// <summary>The sha256 the file list announces (default: the content's).</summary>
    public string? AnnouncedSha256 { get; init; }

    public string Sha256 => AnnouncedSha256 ?? Convert.ToHexStringLower(SHA256.HashData(Content));
}

/// <summary>A fake repository: id, commit, files.</summary>
internal sealed class FakeRepo(string id, string sha)
{
    public string Id { get; } = id;

    public string Sha { get; set; } = sha;

    public Dictionary<string, FakeFile> Files { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A Hugging Face hub stand-in on 127.0.0.1 (random port), speaking just enough HTTP/1.1 for the hub client: the model
/// info API (<c>/api/models/{repo}/revision/{rev}</c>, with the real JSON shape) and <c>/{repo}/resolve/{rev}/{path}</c>
/// with Range support. One request per connection. Tests can intercept any request, for example to cut a connection
/// mid-file, answer 401, or ignore Range.
/// </summary>
internal sealed class FakeHub : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly ConcurrentBag<Task> _connections = [];

    public FakeHub()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Endpoint = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _acceptLoop = AcceptAsync();
    }

    public string Endpoint { get; }

    public ConcurrentDictionary<string, FakeRepo> Repos { get; } = new(StringComparer.OrdinalIgnoreCase);

    public ConcurrentQueue<FakeRequest> Requests { get; } = new();

    /// <summary>Called for every request before the default handling; a non-null answer replaces it.</summary>
    public Func<FakeRequest, FakeResponse?>? Intercept { get; set; }

    /// <summary>When set, the file list carries no sizes or hashes (as from a hub without <c>blobs=true</c> support).</summary>
    public bool NoBlobs { get; set; }

    /// <summary>When set, file requests are answered 200 with the whole file even when they carry a Range header.</summary>
    public bool IgnoreRange { get; set; }

    public FakeRepo AddRepo(string id, string sha = "0123456789abcdef0123456789abcdef01234567")
    {
        var repo = new FakeRepo(id, sha);
        Repos[id] = repo;
        return repo;
    }

    public IEnumerable<FakeRequest> FileRequests(string path) =>
        Requests.Where(r => r.Path.Contains("/resolve/", StringComparison.Ordinal) && r.Path.EndsWith("/" + path, StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await Task.WhenAny(Task.WhenAll([_acceptLoop, .. _connections]), Task.Delay(TimeSpan.FromSeconds(5)));
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _connections.Add(ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(20));
                var stream = client.GetStream();
                var request = await ReadRequestAsync(stream, timeout.Token);
                if (request is null)
                {
                    return;
                }

                Requests.Enqueue(request);
                var response = Intercept?.Invoke(request) ?? Handle(request);
                await WriteAsync(stream, response, timeout.Token);
                client.Client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away; nothing to answer.
            }
        }
    }

    private FakeResponse Handle(FakeRequest request)
    {
        var path = Uri.UnescapeDataString(request.Path);
        const string api = "/api/models/";
        if (path.StartsWith(api, StringComparison.Ordinal))
        {
            var rest = path[api.Length..];
            var marker = rest.IndexOf("/revision/", StringComparison.Ordinal);
            var id = marker < 0 ? rest : rest[..marker];
            if (!Repos.TryGetValue(id, out var repo))
            {
                return FakeResponse.Json(404, """{"error":"Repository not found"}""", ("X-Error-Code", "RepoNotFound"));
            }

            return FakeResponse.Json(200, ModelInfo(repo, blobs: !NoBlobs && request.Target.Contains("blobs=true", StringComparison.Ordinal)));
        }

        var resolve = path.IndexOf("/resolve/", StringComparison.Ordinal);
        if (resolve > 0)
        {
            var id = path[1..resolve];
            var afterRev = path[(resolve + "/resolve/".Length)..];
            var filePath = afterRev[(afterRev.IndexOf('/', StringComparison.Ordinal) + 1)..];
            if (!Repos.TryGetValue(id, out var repo))
            {
                return FakeResponse.Json(404, """{"error":"Repository not found"}""", ("X-Error-Code", "RepoNotFound"));
            }

            if (!repo.Files.TryGetValue(filePath, out var file))
            {
                return FakeResponse.Json(404, """{"error":"Entry not found"}""", ("X-Error-Code", "EntryNotFound"));
            }

            return FileResponse(file.Content, IgnoreRange ? null : request.Header("range"));
        }

        return FakeResponse.Json(404, """{"error":"Not found"}""");
    }

    /// <summary>A file answer honouring a <c>bytes=N-</c> Range the way the hub's CDN does (206 with Content-Range).</summary>
    public static FakeResponse FileResponse(byte[] content, string? range)
    {
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            var from = long.Parse(range["bytes=".Length..^1], CultureInfo.InvariantCulture);
            if (from >= content.Length)
            {
                return new FakeResponse(416, [], new Dictionary<string, string> { ["Content-Range"] = $"bytes */{content.Length}" });
            }

            return new FakeResponse(206, content[(int)from..], new Dictionary<string, string>
            {
                ["Content-Range"] = $"bytes {from}-{content.Length - 1}/{content.Length}",
                ["Accept-Ranges"] = "bytes",
            });
        }

        return new FakeResponse(200, content, new Dictionary<string, string> { ["Accept-Ranges"] = "bytes" });
    }

    private static string ModelInfo(FakeRepo repo, bool blobs)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("_id", "65f0c0ffee");
            json.WriteString("id", repo.Id);
            json.WriteString("modelId", repo.Id);
            json.WriteString("sha", repo.Sha);
            json.WriteBoolean("private", false);
            json.WriteBoolean("gated", false);
            json.WriteString("library_name", "transformers.js");
            json.WriteStartArray("tags");
            json.WriteStringValue("onnx");
            json.WriteEndArray();
            json.WriteStartArray("siblings");
            foreach (var (path, file) in repo.Files)
            {
                json.WriteStartObject();
                json.WriteString("rfilename", path);
                if (blobs)
                {
                    json.WriteString("blobId", Convert.ToHexStringLower(SHA1.HashData(file.Content)));
                    json.WriteNumber("size", file.Content.Length);
                    if (file.Lfs)
                    {
                        json.WriteStartObject("lfs");
                        json.WriteString("sha256", file.Sha256);
                        json.WriteNumber("size", file.Content.Length);
                        json.WriteNumber("pointerSize", 134);
                        json.WriteEndObject();
                    }
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static async Task<FakeRequest?> ReadRequestAsync(NetworkStream stream, CancellationToken ct)
    {
        var data = new List<byte>(1024);
        var one = new byte[1];
        while (data.Count < 64 * 1024)
        {
            if (await stream.ReadAsync(one, ct) == 0)
            {
                return null;
            }

            data.Add(one[0]);
            if (data.Count >= 4 && data[^1] == '\n' && data[^2] == '\r' && data[^3] == '\n' && data[^4] == '\r')
            {
                break;
            }
        }

        var lines = Encoding.ASCII.GetString([.. data]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var parts = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        return new FakeRequest(parts[0], parts[1], headers);
    }

    private static async Task WriteAsync(NetworkStream stream, FakeResponse response, CancellationToken ct)
    {
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {response.Status} {Reason(response.Status)}\r\n");
        head.Append(CultureInfo.InvariantCulture, $"Content-Length: {response.Body.Length}\r\n");
        head.Append("Connection: close\r\n");
        if (response.Headers is not null)
        {
            foreach (var (name, value) in response.Headers)
            {
                head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
            }
        }

        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), ct);
        var count = Math.Min(response.CutAfterBytes ?? response.StallAfterBytes ?? response.Body.Length, response.Body.Length);
        await stream.WriteAsync(response.Body.AsMemory(0, count), ct);
        await stream.FlushAsync(ct);
        if (response.StallAfterBytes is not null)
        {
            // Returns when the client closes the connection (or the hub stops).
            _ = await stream.ReadAsync(new byte[1], ct);
        }
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        206 => "Partial Content",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
}
