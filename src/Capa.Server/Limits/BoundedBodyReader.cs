using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Limits;

/// <summary>
/// Reads a request body into a pooled buffer, never holding more than the limit: a declared Content-Length over the
/// limit is refused before reading, and a chunked body is refused as soon as it passes the limit. A large body is read
/// only once it fits the server's <see cref="BodyBudget"/> (when the request's services have one), whichever endpoint
/// reads it.
/// </summary>
internal static class BoundedBodyReader
{
    // Bodies up to 1 MiB reuse buffers; larger ones are allocated and left to the collector, so a burst of huge bodies
    // does not stay resident in a pool afterwards.
    internal static readonly ArrayPool<byte> Pool = ArrayPool<byte>.Create(1024 * 1024, 64);

    /// <summary>The body, or <see langword="null"/> when it exceeds <paramref name="limit"/>. Dispose the result to return its buffer.</summary>
    public static async ValueTask<PooledBody?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        if (request.HttpContext.RequestServices?.GetService<BodyBudget>() is { } budget)
        {
            await budget.AdmitAsync(request.HttpContext, cancellationToken).ConfigureAwait(false);
        }

        var capacity = (int)Math.Min(request.ContentLength ?? 16 * 1024, limit) + 1;
        var buffer = Pool.Rent(Math.Max(capacity, 4096));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        Pool.Return(buffer);
                        return null;
                    }

                    var larger = Pool.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    Pool.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return new PooledBody(buffer, length);
                }

                length += read;
                if (length > limit)
                {
                    Pool.Return(buffer);
                    return null;
                }
            }
        }
        catch
        {
            Pool.Return(buffer);
            throw;
        }
    }
}

/// <summary>A request body in a rented buffer.</summary>
internal sealed class PooledBody : IDisposable
{
    private static ArrayPool<byte> Pool => BoundedBodyReader.Pool;

    private byte[]? _buffer;

    public PooledBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => (_buffer ?? throw new ObjectDisposedException(nameof(PooledBody))).AsMemory(0, Length);

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            Pool.Return(buffer);
        }
    }
}
