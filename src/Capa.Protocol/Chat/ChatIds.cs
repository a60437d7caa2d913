using System.Security.Cryptography;

namespace Capa.Protocol;

/// <summary>Generates ids shaped like OpenAI's: <c>chatcmpl-</c> + 29 and <c>call_</c> + 24 alphanumerics.</summary>
public static class ChatIds
{
    /// <summary>Prefix of chat completion ids.</summary>
    public const string CompletionPrefix = "chatcmpl-";

    /// <summary>Prefix of tool call ids.</summary>
    public const string ToolCallPrefix = "call_";

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>A new random chat completion id, e.g. <c>chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG</c>.</summary>
    public static string NewCompletionId() => Create(CompletionPrefix, 29);

    /// <summary>A new random tool call id, e.g. <c>call_Hq3tGxuhiMT3ZalTo2hFkw1n</c>.</summary>
    public static string NewToolCallId() => Create(ToolCallPrefix, 24);

    private static string Create(string prefix, int randomLength) =>
        string.Create(prefix.Length + randomLength, prefix, static (span, p) =>
        {
            p.CopyTo(span);
            // Cryptographic randomness: ids must not be guessable, and they are not on a hot path.
            RandomNumberGenerator.GetItems(Alphabet, span[p.Length..]);
        });
}
