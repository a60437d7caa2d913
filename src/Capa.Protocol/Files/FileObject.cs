using System.Text.Json.Serialization;

namespace Capa.Protocol.Files;

/// <summary>An uploaded file (<c>OpenAIFile</c>, object <c>file</c>).</summary>
public sealed record FileObject
{
    /// <summary><c>file-...</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>file</c>.</summary>
    public string Object { get; init; } = "file";

    /// <summary>Size in bytes.</summary>
    public required long Bytes { get; init; }

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>Unix time in seconds when the file expires; absent when it never does.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? ExpiresAt { get; init; }

    /// <summary>The name given at upload.</summary>
    public required string Filename { get; init; }

    /// <summary>The purpose given at upload.</summary>
    public required string Purpose { get; init; }

    /// <summary>Deprecated by OpenAI but required in its schema: <c>processed</c> once stored.</summary>
    public string Status { get; init; } = "processed";

    /// <summary>Deprecated; always null.</summary>
    public string? StatusDetails { get; init; }
}

/// <summary>A page of files (<c>ListFilesResponse</c>).</summary>
public sealed record FileList
{
    /// <summary>Always <c>list</c>.</summary>
    public string Object { get; init; } = "list";

    /// <summary>The files.</summary>
    public required IReadOnlyList<FileObject> Data { get; init; }

    /// <summary>The first file's id, or null on an empty page.</summary>
    public string? FirstId { get; init; }

    /// <summary>The last file's id (the next page's <c>after</c>), or null on an empty page.</summary>
    public string? LastId { get; init; }

    /// <summary>Whether more files follow.</summary>
    public required bool HasMore { get; init; }
}

/// <summary>The answer to a delete (<c>DeleteFileResponse</c> and its relatives).</summary>
public sealed record DeletedFileObject
{
    /// <summary>The deleted object's id.</summary>
    public required string Id { get; init; }

    /// <summary><c>file</c> for files.</summary>
    public required string Object { get; init; }

    /// <summary>Always true.</summary>
    public bool Deleted { get; init; } = true;
}
