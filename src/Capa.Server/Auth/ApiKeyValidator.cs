using System.Security.Cryptography;
using System.Text;

namespace Capa.Server.Auth;

/// <summary>
/// Checks bearer keys against the configured ones in constant time: both sides are hashed to a fixed length first, and
/// every configured key is compared, so neither the length nor the position of a key leaks through timing.
/// </summary>
internal sealed class ApiKeyValidator
{
    private readonly byte[][] _hashes;

    public ApiKeyValidator(IEnumerable<string> keys)
    {
        _hashes = keys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();
    }

    /// <summary>Whether any key is configured (otherwise every request is accepted).</summary>
    public bool Enabled => _hashes.Length > 0;

    public bool IsValid(ReadOnlySpan<char> presented)
    {
        var byteCount = Encoding.UTF8.GetMaxByteCount(presented.Length);
        var buffer = byteCount <= 512 ? stackalloc byte[512] : new byte[byteCount];
        var written = Encoding.UTF8.GetBytes(presented, buffer);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer[..written], hash);
        CryptographicOperations.ZeroMemory(buffer[..written]);

        var match = false;
        foreach (var expected in _hashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(hash, expected);
        }

        return match;
    }
}
