namespace Capa.Protocol;

/// <summary>A model as <c>GET /v1/models</c> lists it (<c>Model</c>).</summary>
public sealed class ModelInfo
{
    /// <summary>The <c>object</c> value of this type.</summary>
    public const string ObjectType = "model";

    /// <summary>The model id used in requests.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>model</c>.</summary>
    public string Object { get; init; } = ObjectType;

    /// <summary>Unix time in seconds when the model was created (or installed).</summary>
    public required long Created { get; init; }

    /// <summary>The owner (organization or <c>capa</c>).</summary>
    public required string OwnedBy { get; init; }

    /// <summary>
    /// Capa's addition: what the model serves (<c>chat</c>, <c>vision</c>, <c>speech</c>, <c>transcription</c>, ...),
    /// omitted when unknown (a model an upstream serves by wildcard).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Capabilities { get; init; }
}

/// <summary>The <c>GET /v1/models</c> response (<c>ListModelsResponse</c>).</summary>
public sealed class ModelList
{
    /// <summary>The <c>object</c> value of this type.</summary>
    public const string ObjectType = "list";

    /// <summary>Always <c>list</c>.</summary>
    public string Object { get; init; } = ObjectType;

    /// <summary>The models.</summary>
    public required IReadOnlyList<ModelInfo> Data { get; init; }
}
