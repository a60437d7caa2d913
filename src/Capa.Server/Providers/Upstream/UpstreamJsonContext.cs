using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Capa.Server.Providers.Upstream;

[JsonSerializable(typeof(JsonObject))]
internal sealed partial class UpstreamJsonContext : JsonSerializerContext;
