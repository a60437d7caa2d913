using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Capa.Server.Hosting;

/// <summary>Request ids in OpenAI's style: <c>req_</c> and 32 hex digits.</summary>
internal static class RequestIds
{
    public const string ItemKey = "capa.request_id";

    public static string New()
    {
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        return string.Create(36, random.ToArray(), static (span, bytes) =>
        {
            "req_".CopyTo(span);
            Convert.TryToHexStringLower(bytes, span[4..], out _);
        });
    }

    public static string Get(HttpContext context) => context.Items[ItemKey] as string ?? context.TraceIdentifier;
}
