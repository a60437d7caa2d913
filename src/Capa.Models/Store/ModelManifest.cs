using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Models.Store;

/// <summary>
/// What a pull wrote into a model folder (<c>.capa-model.json</c>): where the files came from and their digests,
/// so that a model can be identified exactly (commit and file hashes) and checked later.
/// </summary>
public sealed record ModelManifest
{
    /// <summary>The manifest's file name inside a model folder.</summary>
    public const string FileName = ".capa-model.json";

    /// <summary>The manifest format version this code writes.</summary>
    public const int CurrentFormat = 1;

    /// <summary>The manifest format version.</summary>
    public int Format { get; init; } = CurrentFormat;

    /// <summary>The repository id, <c>ORG/NAME</c>.</summary>
    public required string Id { get; init; }

    /// <summary>
    /// The repository the files came from when it is not <see cref="Id"/>: a voice pulled out of a voice repository
    /// (<c>rhasspy/piper-voices</c>) is stored as <c>ORG/VOICE</c>.
    /// </summary>
    public string? Repository { get; init; }

    /// <summary>The revision asked for (branch, tag or commit), e.g. <c>main</c>.</summary>
    public required string Revision { get; init; }

    /// <summary>The commit the revision resolved to when pulled (all files come from this commit), when the hub said.</summary>
    public string? Commit { get; init; }

    /// <summary>The ONNX variant pulled.</summary>
    [JsonConverter(typeof(ModelVariantJsonConverter))]
    public required ModelVariant Variant { get; init; }

    /// <summary>The hub endpoint the files came from.</summary>
    public string? Endpoint { get; init; }

    /// <summary>When the pull completed.</summary>
    public DateTimeOffset PulledAt { get; init; }

    /// <summary>Every file of the folder (repository-relative paths with '/'), with size and sha256.</summary>
    public IReadOnlyList<ManifestFile> Files { get; init; } = [];

    /// <summary>
    /// What identifies the model's bytes: <c>sha256:</c> and the SHA-256 over every file's path, size and SHA-256, in
    /// ordinal path order. Two folders with the same fingerprint hold the same files, whatever hub or revision name they
    /// came from.
    /// </summary>
    public string ComputeFingerprint()
    {
        var text = new System.Text.StringBuilder();
        foreach (var file in Files.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            text.Append(file.Path).Append('\t')
                .Append(file.Size.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\t')
                .Append(file.Sha256).Append('\n');
        }

        return "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Reads a manifest; <see langword="null"/> when the file is absent or not a valid manifest.</summary>
    public static ModelManifest? TryRead(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var manifest = JsonSerializer.Deserialize(stream, StoreJsonContext.Default.ModelManifest);
            return manifest is { Id.Length: > 0, Revision: not null } ? manifest : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            // A damaged manifest must not hide the model: the folder is then listed like one placed by hand.
            return null;
        }
    }

    /// <summary>Writes the manifest to <paramref name="path"/>.</summary>
    public void Write(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        JsonSerializer.Serialize(stream, this, StoreJsonContext.Default.ModelManifest);
        stream.Flush(flushToDisk: true);
    }
}

/// <summary>One file of a <see cref="ModelManifest"/>.</summary>
/// <param name="Path">Repository-relative path with '/' separators, e.g. <c>onnx/model_q4.onnx</c>.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Sha256">Lower-case hex sha256 of the content.</param>
public sealed record ManifestFile(string Path, long Size, string Sha256);

/// <summary>Writes <see cref="ModelVariant"/> as its lower-case name (q4, int8, fp16, fp32).</summary>
internal sealed class ModelVariantJsonConverter : JsonConverter<ModelVariant>
{
    public override ModelVariant Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && ModelVariants.Parse(reader.GetString()) is { } variant
            ? variant
            : throw new JsonException("Expected a model variant: q4, int8, fp16 or fp32.");

    public override void Write(Utf8JsonWriter writer, ModelVariant value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Name());
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ModelManifest))]
internal sealed partial class StoreJsonContext : JsonSerializerContext;
