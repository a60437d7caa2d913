using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol.Responses;

/// <summary>Source-generated JSON metadata for the Responses and Conversations wire types (snake_case).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    MaxDepth = 64,
    WriteIndented = false)]
[JsonSerializable(typeof(ResponseObject))]
[JsonSerializable(typeof(ResponseItem))]
[JsonSerializable(typeof(ResponseStreamEvent))]
[JsonSerializable(typeof(ResponseItemList))]
[JsonSerializable(typeof(DeletedObject))]
[JsonSerializable(typeof(ConversationObject))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
public sealed partial class ResponsesJsonContext : JsonSerializerContext;
