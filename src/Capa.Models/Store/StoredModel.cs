namespace Capa.Models.Store;

/// <summary>A model folder in a <see cref="ModelStore"/>.</summary>
/// <param name="Id">The id, <c>ORG/NAME</c> (the folder's two names).</param>
/// <param name="Directory">The folder's full path.</param>
/// <param name="Variant">
/// The ONNX variant: the one pulled, or for a folder placed by hand the one present when exactly one is;
/// <see langword="null"/> when unknown or several.
/// </param>
/// <param name="SizeBytes">Total size of the folder's files.</param>
/// <param name="Capabilities">What it can serve (see <see cref="ModelCapabilities"/>).</param>
/// <param name="Revision">The revision pulled (e.g. <c>main</c>); <see langword="null"/> for a folder placed by hand.</param>
/// <param name="Manifest">The pull's manifest; <see langword="null"/> for a folder placed by hand.</param>
public sealed record StoredModel(
    string Id,
    string Directory,
    ModelVariant? Variant,
    long SizeBytes,
    IReadOnlyList<string> Capabilities,
    string? Revision,
    ModelManifest? Manifest)
{
    /// <summary>The commit the files came from, when pulled from a hub that said.</summary>
    public string? Commit => Manifest?.Commit;

    /// <summary>
    /// The digest of the files the pull verified (<see cref="ModelManifest.ComputeFingerprint"/>); <see langword="null"/>
    /// for a folder placed by hand, whose files no pull has hashed.
    /// </summary>
    public string? Fingerprint => Manifest?.ComputeFingerprint();
}
