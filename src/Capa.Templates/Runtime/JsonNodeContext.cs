using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Capa.Templates.Runtime;

/// <summary>Source-generated serialization for the rare <see cref="JsonValue"/> that wraps an arbitrary CLR value.</summary>
[JsonSerializable(typeof(JsonNode))]
internal sealed partial class JsonNodeContext : JsonSerializerContext;
