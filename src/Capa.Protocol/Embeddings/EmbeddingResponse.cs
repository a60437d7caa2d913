using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol.Embeddings;

/// <summary>One embedding (<c>Embedding</c>, object <c>embedding</c>).</summary>
public sealed record EmbeddingObject
{
    /// <summary>Always <c>embedding</c>.</summary>
    public string Object { get; init; } = "embedding";

    /// <summary>The input's position.</summary>
    public required int Index { get; init; }

    /// <summary>A number array, or a base64 string of little-endian float32 (<c>encoding_format=base64</c>).</summary>
    public required JsonElement Embedding { get; init; }
}

/// <summary>Token counts of an embeddings request.</summary>
public sealed record EmbeddingUsage
{
    /// <summary>Tokens in the inputs.</summary>
    public required int PromptTokens { get; init; }

    /// <summary>The same as <see cref="PromptTokens"/>.</summary>
    public required int TotalTokens { get; init; }
}

/// <summary>The answer of <c>POST /v1/embeddings</c> (<c>CreateEmbeddingResponse</c>).</summary>
public sealed record EmbeddingResponse
{
    /// <summary>Always <c>list</c>.</summary>
    public string Object { get; init; } = "list";

    /// <summary>One embedding per input, in input order.</summary>
    public required IReadOnlyList<EmbeddingObject> Data { get; init; }

    /// <summary>The model id as requested.</summary>
    public required string Model { get; init; }

    /// <summary>Token counts.</summary>
    public required EmbeddingUsage Usage { get; init; }
}

/// <summary>Source-generated JSON metadata for the embeddings wire types (snake_case).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    MaxDepth = 64,
    WriteIndented = false)]
[JsonSerializable(typeof(EmbeddingResponse))]
[JsonSerializable(typeof(EmbeddingRequest))]
[JsonSerializable(typeof(float[]))]
[JsonSerializable(typeof(string))]
public sealed partial class EmbeddingsJsonContext : JsonSerializerContext;
