using System.Text.Json.Serialization;

namespace Capa.Protocol.Files;

/// <summary>Source-generated JSON metadata for the Files API's wire types (snake_case).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    MaxDepth = 64,
    WriteIndented = false)]
[JsonSerializable(typeof(FileObject))]
[JsonSerializable(typeof(FileList))]
[JsonSerializable(typeof(DeletedFileObject))]
[JsonSerializable(typeof(FileUploadRequest))]
public sealed partial class FilesJsonContext : JsonSerializerContext;
