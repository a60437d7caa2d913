using System.Security.Cryptography;

namespace Capa.Engine.Text.Tools;

/// <summary>One tool call found in a model's output.</summary>
/// <param name="Id">OpenAI-style id, <c>call_</c> and 24 alphanumerics.</param>
/// <param name="Name">The function called.</param>
/// <param name="Arguments">The arguments as JSON text (an object), as generated.</param>
public sealed record ParsedToolCall(string Id, string Name, string Arguments)
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>A new random call id shaped like OpenAI's (<c>call_</c> + 24 alphanumerics).</summary>
    public static string NewId() => string.Create(29, 0, static (span, _) =>
    {
        "call_".CopyTo(span);
        // Cryptographic randomness: ids must not be guessable by other clients.
        RandomNumberGenerator.GetItems(Alphabet, span[5..]);
    });
}

/// <summary>A model's output split into plain content and tool calls.</summary>
/// <param name="Content">The text outside tool calls (trimmed), or null when there is none.</param>
/// <param name="ToolCalls">The calls, in order; empty when the output holds none.</param>
public sealed record ToolCallParseResult(string? Content, IReadOnlyList<ParsedToolCall> ToolCalls);
