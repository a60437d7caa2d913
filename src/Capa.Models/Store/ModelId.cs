namespace Capa.Models.Store;

/// <summary>
/// Validation of model ids: Hugging Face's <c>ORG/NAME</c> (what pulls take) and, for folders placed by hand directly
/// under the store, a bare <c>NAME</c> (a local id). The id becomes folder names in the store, so anything that could
/// escape the store (<c>..</c>, separators, leading dots that would collide with the store's own hidden folders) is
/// refused.
/// </summary>
public static class ModelId
{
    /// <summary>The longest org or name part the hub accepts.</summary>
    public const int MaxPartLength = 96;

    /// <summary>Whether <paramref name="id"/> is a valid <c>ORG/NAME</c> id; <paramref name="error"/> says why not.</summary>
    public static bool IsValid(string? id, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(id))
        {
            error = "A model id is required (ORG/NAME, e.g. onnx-community/Qwen2.5-0.5B-Instruct).";
            return false;
        }

        var slash = id.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || slash != id.LastIndexOf('/'))
        {
            error = $"Invalid model id '{id}': expected ORG/NAME (e.g. onnx-community/Qwen2.5-0.5B-Instruct).";
            return false;
        }

        if (!IsValidPart(id.AsSpan(0, slash)) || !IsValidPart(id.AsSpan(slash + 1)))
        {
            error = $"Invalid model id '{id}': ORG and NAME use letters, digits, '-', '_' and '.', " +
                $"start with a letter or digit, contain no '..' and are at most {MaxPartLength} characters.";
            return false;
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="id"/> names a model of a store: <c>ORG/NAME</c>, or a bare <c>NAME</c> for a folder placed
    /// directly under the store; <paramref name="error"/> says why not.
    /// </summary>
    public static bool IsValidLocal(string? id, out string? error)
    {
        if (id is not null && !id.Contains('/', StringComparison.Ordinal) && !string.IsNullOrWhiteSpace(id))
        {
            return IsValidName(id, out error);
        }

        return IsValid(id, out error);
    }

    /// <summary>Whether <paramref name="name"/> can be one part of an id (an org, a name, or a bare local name).</summary>
    public static bool IsValidName(string? name, out string? error)
    {
        error = null;
        if (name is not null && IsValidPart(name))
        {
            return true;
        }

        error = $"Invalid model name '{name}': names use letters, digits, '-', '_' and '.', " +
            $"start with a letter or digit, contain no '..' and are at most {MaxPartLength} characters.";
        return false;
    }

    /// <summary>Throws <see cref="ArgumentException"/> with a user-facing message when <paramref name="id"/> is not a valid id.</summary>
    /// <returns>The org and name parts.</returns>
    public static (string Org, string Name) Split(string id)
    {
        if (!IsValid(id, out var error))
        {
            throw new ArgumentException(error, nameof(id));
        }

        var slash = id.IndexOf('/', StringComparison.Ordinal);
        return (id[..slash], id[(slash + 1)..]);
    }

    private static bool IsValidPart(ReadOnlySpan<char> part)
    {
        if (part.Length is 0 or > MaxPartLength || !char.IsAsciiLetterOrDigit(part[0]) || part.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in part)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
