namespace Capa.Engine.Models.Store;

/// <summary>
/// Validation of Hugging Face style model ids (<c>ORG/NAME</c>). The id becomes two folder names in the store,
/// so anything that could escape the store (<c>..</c>, separators, leading dots that would collide with the
/// store's own hidden folders) is refused.
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
