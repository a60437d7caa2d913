using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol.Assistants;

/// <summary>Source-generated JSON metadata for the Assistants API's wire types (snake_case, nulls written).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    MaxDepth = 64,
    WriteIndented = false)]
[JsonSerializable(typeof(AssistantObject))]
[JsonSerializable(typeof(ThreadObject))]
[JsonSerializable(typeof(MessageObject))]
[JsonSerializable(typeof(RunObject))]
[JsonSerializable(typeof(RunStepObject))]
[JsonSerializable(typeof(AssistantList))]
[JsonSerializable(typeof(AssistantDeleted))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(Dictionary<string, string>))]
public sealed partial class AssistantsJsonContext : JsonSerializerContext;
