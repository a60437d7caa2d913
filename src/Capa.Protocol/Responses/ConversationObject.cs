namespace Capa.Protocol.Responses;

/// <summary>A conversation (<c>ConversationResource</c>, object <c>conversation</c>).</summary>
public sealed record ConversationObject
{
    /// <summary><c>conv_...</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>conversation</c>.</summary>
    public string Object { get; init; } = "conversation";

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>Up to 16 string pairs.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = ResponseDefaults.EmptyMetadata;
}
