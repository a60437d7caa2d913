using System.Text.Json.Serialization;
using Capa.Models;
using Capa.Models.Hub;
using Capa.Models.Store;

namespace Capa.Server.Models;

/// <summary>A model of the store as <c>GET /capa/v1/models</c> lists it.</summary>
internal sealed class InstalledModel
{
    /// <summary>The id the API serves it as (<c>ORG/NAME</c>, or <c>NAME</c> for a folder placed directly in the store).</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>capa.model</c>.</summary>
    public string Object => "capa.model";

    /// <summary>Bytes of the folder's files on disk.</summary>
    public required long SizeBytes { get; init; }

    /// <summary>The ONNX variant (q4, int8, fp16, fp32), or null when unknown or mixed.</summary>
    public string? Variant { get; init; }

    /// <summary>What the folder can serve (chat, vision, speech, ...).</summary>
    public required IReadOnlyList<string> Capabilities { get; init; }

    /// <summary>The revision pulled; null for a folder placed by hand.</summary>
    public string? Revision { get; init; }

    /// <summary>The commit the revision resolved to, when the hub said.</summary>
    public string? Commit { get; init; }

    /// <summary>The repository the files came from when it is not <see cref="Id"/> (one voice of a voice repository).</summary>
    public string? Repository { get; init; }

    /// <summary><c>sha256:</c> over the pulled files' paths, sizes and digests; null for a folder placed by hand.</summary>
    public string? Fingerprint { get; init; }

    /// <summary>When the pull finished (Unix seconds); null for a folder placed by hand.</summary>
    public long? PulledAt { get; init; }

    public static InstalledModel From(StoredModel model) => new()
    {
        Id = model.Id,
        SizeBytes = model.SizeBytes,
        Variant = model.Variant?.Name(),
        Capabilities = model.Capabilities,
        Revision = model.Revision,
        Commit = model.Commit,
        Repository = model.Manifest?.Repository,
        Fingerprint = model.Fingerprint,
        PulledAt = model.Manifest is { } manifest ? manifest.PulledAt.ToUnixTimeSeconds() : null,
    };
}

/// <summary>The body of <c>GET /capa/v1/models</c>.</summary>
internal sealed class InstalledModelList
{
    /// <summary>Always <c>list</c>.</summary>
    public string Object => "list";

    /// <summary>The models, sorted by id.</summary>
    public required IReadOnlyList<InstalledModel> Data { get; init; }
}

/// <summary>The body of a successful <c>DELETE /capa/v1/models/{id}</c>, shaped like OpenAI's model deletion.</summary>
internal sealed class DeletedModel
{
    public required string Id { get; init; }

    public string Object => "model";

    public bool Deleted => true;
}

/// <summary>One <c>model.pull.progress</c> event of a pull's stream.</summary>
internal sealed class PullProgressEvent
{
    public const string EventType = "model.pull.progress";

    public string Type => EventType;

    /// <summary>The model being pulled, as asked (<c>ORG/NAME</c> or <c>ORG/NAME/VOICE</c>, with <c>@REV</c> when given).</summary>
    public required string Model { get; init; }

    /// <summary><c>retrying</c>, <c>downloading</c>, <c>file_completed</c> or <c>installing</c>.</summary>
    public required string Stage { get; init; }

    /// <summary>The repository path of the current file; empty while installing.</summary>
    public required string File { get; init; }

    public required int FileIndex { get; init; }

    public required int FileCount { get; init; }

    public required long FileBytesDone { get; init; }

    /// <summary>The current file's size, when the hub said.</summary>
    public long? FileTotalBytes { get; init; }

    public required long BytesDone { get; init; }

    public required long TotalBytes { get; init; }

    public required double BytesPerSecond { get; init; }

    /// <summary>For <c>retrying</c>: the retry about to be made, from 1.</summary>
    public int? Attempt { get; init; }

    /// <summary>For <c>retrying</c>: what failed.</summary>
    public string? Note { get; init; }

    public static PullProgressEvent From(string model, PullProgress progress) => new()
    {
        Model = model,
        Stage = progress.Stage switch
        {
            PullStage.Resolving => "resolving",
            PullStage.Retrying => "retrying",
            PullStage.Downloading => "downloading",
            PullStage.FileCompleted => "file_completed",
            _ => "installing",
        },
        File = progress.File,
        FileIndex = progress.FileIndex,
        FileCount = progress.FileCount,
        FileBytesDone = progress.FileBytesDone,
        FileTotalBytes = progress.FileTotalBytes,
        BytesDone = progress.BytesDone,
        TotalBytes = progress.TotalBytes,
        BytesPerSecond = Math.Round(progress.BytesPerSecond, 1),
        Attempt = progress.Stage == PullStage.Retrying ? progress.Attempt : null,
        Note = progress.Note,
    };
}

/// <summary>The <c>model.pull.completed</c> event that ends a successful pull's stream.</summary>
internal sealed class PullCompletedEvent
{
    public const string EventType = "model.pull.completed";

    public string Type => EventType;

    /// <summary>The model as now installed.</summary>
    public required InstalledModel Model { get; init; }
}

/// <summary>The JSON of the model store endpoints.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(InstalledModelList))]
[JsonSerializable(typeof(DeletedModel))]
[JsonSerializable(typeof(PullProgressEvent))]
[JsonSerializable(typeof(PullCompletedEvent))]
internal sealed partial class ModelStoreJsonContext : JsonSerializerContext;
