using System.Text.Json;

namespace Capa.Constraints.Grammars;

/// <summary>A callable tool: its name and the JSON schema of its arguments (an object schema).</summary>
public sealed record ToolDefinition(string Name, JsonElement Parameters);
