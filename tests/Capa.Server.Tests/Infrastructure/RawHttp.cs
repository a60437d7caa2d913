using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Capa.Server.Tests.Infrastructure;

/// <summary>
/// HTTP/1.1 over a bare socket, for requests no HTTP client will send: bodies that stall, broken chunk framing,
/// oversized trailers. Every read is bounded by a timeout.
/// </summary>
internal sealed class RawHttp : IAsyncDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(60);
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private RawHttp(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RawHttp> ConnectAsync(string baseUrl)
    {
        var uri = new Uri(baseUrl);
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(uri.Host, uri.Port);
        return new RawHttp(client);
    }

    public Task SendAsync(string text) => _stream.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();

    /// <summary>Reads one response: status, headers and a Content-Length body.</summary>
    public async Task<RawResponse> ReadResponseAsync()
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int headerEnd;
        while ((headerEnd = IndexOf(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), "\r\n\r\n"u8)) < 0)
        {
            var read = await _stream.ReadAsync(chunk, timeout.Token);
            if (read == 0)
            {
                throw new IOException("The connection closed before the response headers: " + Encoding.ASCII.GetString(buffer.ToArray()));
            }

            buffer.Write(chunk, 0, read);
        }

        var head = Encoding.ASCII.GetString(buffer.GetBuffer(), 0, headerEnd).Split("\r\n");
        var status = int.Parse(head[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in head.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        var length = headers.TryGetValue("Content-Length", out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : 0;
        var bodyStart = headerEnd + 4;
        while (buffer.Length - bodyStart < length)
        {
            var read = await _stream.ReadAsync(chunk, timeout.Token);
            if (read == 0)
            {
                throw new IOException("The connection closed inside the response body.");
            }

            buffer.Write(chunk, 0, read);
        }

        return new RawResponse(status, headers, Encoding.UTF8.GetString(buffer.GetBuffer(), bodyStart, length));
    }

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private static int IndexOf(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle) => haystack.IndexOf(needle);
}

internal sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body);
