using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Unicode;

namespace Capa.Protocol;

/// <summary>
/// Reads and validates a <c>POST /v1/chat/completions</c> body. Every byte sequence yields either a
/// <see cref="ChatCompletionRequest"/> or an <see cref="ApiError"/> (400 <c>invalid_request_error</c>
/// naming the parameter, or 413 when over <see cref="ChatRequestLimits.MaxBodyBytes"/>); it never throws.
/// Unknown members are ignored, as OpenAI does, and stay in <see cref="ChatCompletionRequest.Raw"/>.
/// </summary>
public static class ChatRequestReader
{
    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>Reads a body with <see cref="ChatRequestLimits.Default"/>.</summary>
    public static bool TryRead(
        ReadOnlySpan<byte> utf8Body,
        [NotNullWhen(true)] out ChatCompletionRequest? request,
        [NotNullWhen(false)] out ApiError? error) =>
        TryRead(utf8Body, ChatRequestLimits.Default, out request, out error);

    /// <summary>Reads and validates a body.</summary>
    /// <param name="utf8Body">The raw request body.</param>
    /// <param name="limits">Size and depth bounds.</param>
    /// <param name="request">The request, when valid.</param>
    /// <param name="error">Why it is not, when invalid.</param>
    /// <returns>True when the body is a valid request.</returns>
    public static bool TryRead(
        ReadOnlySpan<byte> utf8Body,
        ChatRequestLimits limits,
        [NotNullWhen(true)] out ChatCompletionRequest? request,
        [NotNullWhen(false)] out ApiError? error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.MaxDepth, 1, nameof(limits));
        request = null;
        error = null;
        try
        {
            if (utf8Body.Length > limits.MaxBodyBytes)
            {
                error = ApiError.PayloadTooLarge(limits.MaxBodyBytes);
                return false;
            }

            if (utf8Body.StartsWith(Utf8Bom))
            {
                utf8Body = utf8Body[3..];
            }

            if (!Utf8.IsValid(utf8Body))
            {
                error = ApiError.InvalidJson("The body is not valid UTF-8.");
                return false;
            }

            if (!TryParseRoot(utf8Body, limits, out var root, out error))
            {
                return false;
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                error = ApiError.InvalidRequest(
                    $"Invalid request body: expected a JSON object, but got {JsonRules.Describe(root)} instead.",
                    null,
                    "invalid_type");
                return false;
            }

            request = new ChatRequestParser(limits).Parse(root);
            if (JsonModeRule.Check(request) is { } jsonModeError)
            {
                request = null;
                error = jsonModeError;
                return false;
            }

            return true;
        }
        catch (RequestRejectedException rejected)
        {
            request = null;
            error = rejected.Error;
            return false;
        }
        catch (InvalidOperationException)
        {
            // Decoding a string (value or member name) whose escapes form a lone surrogate ("\ud800"):
            // the text is well-formed JSON but not Unicode.
            request = null;
            error = ApiError.InvalidJson("A string contains an escape sequence that is not valid Unicode.");
            return false;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A defect in validation must not take the server down or leak details; it shows up as a 500.
            request = null;
            error = ApiError.ServerError();
            return false;
        }
    }

    private static bool TryParseRoot(ReadOnlySpan<byte> body, ChatRequestLimits limits, out JsonElement root, [NotNullWhen(false)] out ApiError? error)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions
        {
            MaxDepth = limits.MaxDepth,
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
        });
        try
        {
            // ParseValue copies into a document of its own, so the request outlives the body buffer.
            root = JsonElement.ParseValue(ref reader);

            // Anything but whitespace after the value is an error (Read throws on it).
            if (reader.Read())
            {
                root = default;
                error = ApiError.InvalidJson("Unexpected content after the JSON value.");
                return false;
            }

            error = null;
            return true;
        }
        catch (JsonException)
        {
            root = default;
            error = ExceedsDepth(body, limits.MaxDepth)
                ? ApiError.InvalidJson($"The JSON nesting is deeper than the maximum of {limits.MaxDepth}.")
                : ApiError.InvalidJson();
            return false;
        }
    }

    /// <summary>
    /// Tells a too-deep body from other syntax errors, for a clearer message. The reader keeps nesting in a
    /// bit stack, not on the call stack, so scanning any depth is linear and safe.
    /// </summary>
    private static bool ExceedsDepth(ReadOnlySpan<byte> body, int maxDepth)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = int.MaxValue });
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth >= maxDepth)
                {
                    return true;
                }
            }
        }
        catch (JsonException)
        {
            // The syntax error comes before any excessive depth.
        }

        return false;
    }
}
