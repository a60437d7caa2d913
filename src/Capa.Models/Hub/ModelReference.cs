using Capa.Models.Store;

namespace Capa.Models.Hub;

/// <summary>
/// A hub model reference, <c>ORG/NAME[@REV]</c> (revision: a branch, tag or commit; default <c>main</c>), or one voice of a
/// voice repository, <c>ORG/NAME/VOICE[@REV]</c> (<c>rhasspy/piper-voices/en_US-lessac-medium</c>).
/// </summary>
/// <param name="RepoId">The repository id, <c>ORG/NAME</c>.</param>
/// <param name="Revision">The revision, or <see langword="null"/> for the default branch.</param>
public sealed record ModelReference(string RepoId, string? Revision)
{
    /// <summary>The voice asked for (<c>en_US-lessac-medium</c>), or <see langword="null"/> for the whole repository.</summary>
    public string? Voice { get; init; }

    /// <summary>
    /// The id the store keeps the pull under: the repository id, or <c>ORG/VOICE</c> for one voice of a voice repository.
    /// The hub may spell it with other letter cases.
    /// </summary>
    public string StoreId => Voice is null ? RepoId : ModelId.Split(RepoId).Org + "/" + Voice;

    /// <summary>The revision pulled when none is given.</summary>
    public const string DefaultRevision = "main";

    /// <summary>Parses <c>ORG/NAME</c> or <c>ORG/NAME@REV</c>.</summary>
    /// <exception cref="HubException"><see cref="HubErrorKind.InvalidReference"/> with a message saying what is wrong.</exception>
    public static ModelReference Parse(string text)
    {
        var trimmed = text?.Trim() ?? string.Empty;
        var at = trimmed.IndexOf('@', StringComparison.Ordinal);
        var id = at < 0 ? trimmed : trimmed[..at];
        string? revision = at < 0 ? null : trimmed[(at + 1)..];
        string? voice = null;
        var parts = id.Split('/');
        if (parts.Length == 3)
        {
            // ORG/NAME/VOICE: one voice of a repository that keeps many (Piper's), found by its file name.
            voice = parts[2];
            id = parts[0] + "/" + parts[1];
            if (!ModelId.IsValidName(voice, out var voiceError))
            {
                throw new HubException(HubErrorKind.InvalidReference,
                    $"Invalid voice '{voice}' in '{trimmed}': expected ORG/NAME/VOICE with VOICE a voice's file name without .onnx (e.g. rhasspy/piper-voices/en_US-lessac-medium). {voiceError}");
            }
        }

        if (!ModelId.IsValid(id, out var error))
        {
            throw new HubException(HubErrorKind.InvalidReference, error!);
        }

        if (revision is not null && !IsValidRevision(revision))
        {
            throw new HubException(HubErrorKind.InvalidReference,
                $"Invalid revision '{revision}' in '{trimmed}': expected ORG/NAME@REV with REV a branch, tag or commit.");
        }

        return new ModelReference(id, revision) { Voice = voice };
    }

    /// <summary>Whether <paramref name="revision"/> can name a branch, tag or commit (no spaces, control characters or '..').</summary>
    internal static bool IsValidRevision(string revision) =>
        revision.Length is > 0 and <= 256
        && !revision.Contains("..", StringComparison.Ordinal)
        && !revision.StartsWith('/') && !revision.EndsWith('/')
        && revision.All(c => c > ' ' && c < 127 && c is not ('\\' or '?' or '#' or '%' or '@'));

    /// <inheritdoc/>
    public override string ToString() => (Voice is null ? RepoId : RepoId + "/" + Voice) + (Revision is null ? string.Empty : "@" + Revision);
}
