namespace Capa.Models.Store;

/// <summary>What <see cref="ModelStore.Scan"/> found.</summary>
/// <param name="Models">The models, sorted by id.</param>
/// <param name="Ignored">Folders that are not served, each with the reason (to tell the user, who may have meant them as models).</param>
public sealed record StoreScan(IReadOnlyList<StoredModel> Models, IReadOnlyList<IgnoredFolder> Ignored);

/// <summary>A folder of the store that is not a model.</summary>
/// <param name="Directory">Its full path.</param>
/// <param name="Reason">Why, and what layout is expected.</param>
public sealed record IgnoredFolder(string Directory, string Reason);
