using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Xunit.Sdk;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Capa.Server.Tests.Infrastructure;

/// <summary>One way the JSON broke the contract: where in the instance, which schema keyword, and what it said.</summary>
/// <param name="InstancePath">The JSON pointer of the offending value ("" for the root).</param>
/// <param name="SchemaPath">The evaluation path through the contract's schema (shows which <c>$ref</c>s led there).</param>
/// <param name="Keyword">The failing keyword (<c>required</c>, <c>type</c>, <c>enum</c>, <c>format</c>…).</param>
/// <param name="Message">The validator's message.</param>
public sealed record ContractViolation(string InstancePath, string SchemaPath, string Keyword, string Message)
{
    public override string ToString() => $"{(InstancePath.Length == 0 ? "/" : InstancePath)}: {Keyword}: {Message}  [{SchemaPath}]";
}

/// <summary>
/// OpenAI's contract, <c>../shared/spec/openai-openapi.yaml</c> beside the repository, as JSON Schema: every schema of
/// <c>components/schemas</c> becomes a <c>$defs</c> entry of one 2020-12 document and responses are checked against it.
/// </summary>
/// <remarks>
/// How strict, and why:
/// <list type="bullet">
/// <item>Every <c>required</c>, <c>type</c>, <c>enum</c>, <c>const</c>, bound and <c>format</c> the spec states must hold;
/// <c>oneOf</c> keeps its "exactly one" meaning.</item>
/// <item>Properties the spec does not list are allowed unless the schema itself says <c>additionalProperties: false</c>:
/// OpenAI adds fields before the spec names them, and clients ignore what they do not know.</item>
/// <item>OpenAPI 3.0's <c>nullable: true</c> (still used in parts of this 3.1 file) becomes "or null".
/// <c>discriminator</c>, <c>example</c>, <c>x-*</c> and the stray <c>optional</c> carry no validation and are dropped.</item>
/// <item>Formats: <c>unixtime</c> is an integer count of seconds (a value in milliseconds fails), <c>int64</c>/<c>int32</c>
/// integers in range, <c>double</c>/<c>float</c> numbers, <c>binary</c> anything (it describes multipart bodies),
/// <c>uri</c> and <c>date</c> as JSON Schema defines them. A format the spec never uses elsewhere is dropped.</item>
/// </list>
/// </remarks>
public static partial class OpenApiContract
{
    private const string DocumentId = "https://capa.invalid/openai-openapi.json";

    private static readonly Lazy<Contract?> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly ConcurrentDictionary<string, JsonSchema> BySchemaName = new(StringComparer.Ordinal);

    /// <summary>The spec file, or null where <c>../shared/spec</c> is not beside the repository (a bare clone).</summary>
    public static string? SpecPath { get; } = FindSpec();

    /// <summary>Why contract tests skip here, or null when the spec is present.</summary>
    public static string? Unavailable => SpecPath is null ? "Skipped: ../shared/spec/openai-openapi.yaml is not beside the repository." : null;

    /// <summary>The converted contract: one JSON Schema document whose <c>$defs</c> are the spec's component schemas.</summary>
    public static JsonObject Document => Require().Document;

    /// <summary>Fails the test, listing every violation, unless <paramref name="json"/> is a valid <paramref name="schemaName"/>.</summary>
    public static void AssertValid(string schemaName, string json)
    {
        var violations = Validate(schemaName, json);
        if (violations.Count > 0)
        {
            var text = new StringBuilder()
                .Append(CultureInfo.InvariantCulture, $"The JSON is not a valid {schemaName} ({violations.Count} violation(s)):")
                .AppendLine();
            foreach (var v in violations)
            {
                text.Append("  ").AppendLine(v.ToString());
            }

            text.Append("JSON: ").Append(json.Length > 4000 ? json[..4000] + "…" : json);
            throw new XunitException(text.ToString());
        }
    }

    /// <summary>The violations of <paramref name="schemaName"/> by <paramref name="json"/> (empty when it is valid).</summary>
    public static IReadOnlyList<ContractViolation> Validate(string schemaName, string json)
    {
        var schema = SchemaFor(schemaName);
        using var doc = JsonDocument.Parse(json);
        var results = schema.Evaluate(doc.RootElement, new EvaluationOptions
        {
            OutputFormat = OutputFormat.Hierarchical,
            RequireFormatValidation = true,
            FormatRegistry = Require().Formats,
        });
        if (results.IsValid)
        {
            return [];
        }

        var violations = new List<ContractViolation>();
        Collect(results, violations);
        if (violations.Count == 0)
        {
            violations.Add(new ContractViolation("", "", "?", "invalid, but the validator gave no message"));
        }

        return violations;
    }

    /// <summary>
    /// The member of the union <paramref name="unionSchema"/> (an <c>anyOf</c>/<c>oneOf</c> of <c>$ref</c>s, such as
    /// <c>ResponseStreamEvent</c>) whose <c>type</c> property admits <paramref name="type"/>; null when none does.
    /// </summary>
    public static string? MemberForType(string unionSchema, string type)
    {
        var defs = Require().Document["$defs"]!.AsObject();
        if (defs[unionSchema] is not JsonObject union)
        {
            throw new ArgumentException($"The spec has no schema {unionSchema}.", nameof(unionSchema));
        }

        var members = (union["anyOf"] ?? union["oneOf"])?.AsArray() ?? throw new ArgumentException($"{unionSchema} is not a union.", nameof(unionSchema));
        foreach (var member in members)
        {
            var name = member?["$ref"]?.GetValue<string>()?.Split('/')[^1];
            if (name is not null && defs[name]?["properties"]?["type"] is JsonObject typeSchema && Admits(typeSchema, type))
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>Whether the spec defines <paramref name="schemaName"/>.</summary>
    public static bool Defines(string schemaName) => Require().Document["$defs"]!.AsObject().ContainsKey(schemaName);

    private static bool Admits(JsonObject typeSchema, string type) =>
        (typeSchema["const"] is JsonValue c && c.GetValueKind() == JsonValueKind.String && c.GetValue<string>() == type)
        || (typeSchema["enum"] is JsonArray e && e.Any(v => v is JsonValue s && s.GetValueKind() == JsonValueKind.String && s.GetValue<string>() == type));

    // Walks only failing nodes: the failed branches of an anyOf that passed elsewhere are not violations.
    private static void Collect(EvaluationResults node, List<ContractViolation> into)
    {
        if (node.IsValid)
        {
            return;
        }

        if (node.Errors is { Count: > 0 } errors)
        {
            foreach (var (keyword, message) in errors)
            {
                into.Add(new ContractViolation(node.InstanceLocation.ToString(), node.EvaluationPath.ToString(), keyword, message));
            }
        }

        if (node.Details is { } details)
        {
            foreach (var child in details)
            {
                Collect(child, into);
            }
        }
    }

    private static JsonSchema SchemaFor(string schemaName)
    {
        var contract = Require();
        return BySchemaName.GetOrAdd(schemaName, name =>
        {
            if (!contract.Document["$defs"]!.AsObject().ContainsKey(name))
            {
                throw new ArgumentException($"The spec has no schema named {name}.", nameof(schemaName));
            }

            var reference = new JsonObject
            {
                ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
                ["$ref"] = DocumentId + "#/$defs/" + name,
            };
            return JsonSchema.FromText(reference.ToJsonString(), contract.BuildOptions, new Uri("https://capa.invalid/check/" + name));
        });
    }

    private static Contract Require() =>
        Loaded.Value ?? throw new InvalidOperationException(Unavailable + " (check OpenApiContract.Unavailable and skip first)");

    private static string? FindSpec()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Capa.slnx")))
            {
                var path = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "spec", "openai-openapi.yaml"));
                return File.Exists(path) ? path : null;
            }
        }

        return null;
    }

    private static Contract? Load()
    {
        if (SpecPath is null)
        {
            return null;
        }

        // Lines of only spaces inside block scalars (descriptions) trip YamlDotNet's "extra spaces in first line"
        // check; emptied, they mean the same blank line.
        var yaml = BlankLines().Replace(File.ReadAllText(SpecPath), "");
        JsonNode? openApi;
        using (var reader = new StringReader(yaml))
        {
            openApi = YamlJson.Read(reader);
        }

        var schemas = openApi?["components"]?["schemas"]?.AsObject() ?? throw new InvalidDataException("The spec has no components/schemas.");
        var defs = new JsonObject();
        foreach (var (name, schema) in schemas)
        {
            defs[name] = SchemaConverter.Convert(schema);
        }

        var document = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = DocumentId,
            ["$defs"] = defs,
        };

        var buildOptions = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        var root = JsonSchema.FromText(document.ToJsonString(), buildOptions, new Uri(DocumentId));
        buildOptions.SchemaRegistry.Register(new Uri(DocumentId), root);
        return new Contract(document, buildOptions, ContractFormats.Create());
    }

    [GeneratedRegex(@"(?<=\n)[ \t]+(?=\r?\n)")]
    private static partial Regex BlankLines();

    private sealed record Contract(JsonObject Document, BuildOptions BuildOptions, FormatRegistry Formats);
}

/// <summary>OpenAPI schema objects to JSON Schema 2020-12, walking only schema positions (property names stay intact).</summary>
internal static class SchemaConverter
{
    private const string ComponentsPrefix = "#/components/schemas/";

    // Keywords whose value is a map of name to schema, one schema, or a list of schemas.
    private static readonly HashSet<string> SchemaMaps = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
    private static readonly HashSet<string> SingleSchemas = ["items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else", "unevaluatedProperties", "unevaluatedItems", "additionalItems"];
    private static readonly HashSet<string> SchemaLists = ["allOf", "anyOf", "oneOf", "prefixItems"];

    // OpenAPI's own annotations (and one stray keyword of the spec) that validate nothing.
    private static readonly HashSet<string> Dropped = ["discriminator", "example", "examples", "nullable", "optional", "xml", "externalDocs"];

    public static JsonNode? Convert(JsonNode? schema)
    {
        if (schema is not JsonObject obj)
        {
            return schema?.DeepClone();
        }

        var result = new JsonObject();
        foreach (var (key, value) in obj)
        {
            if (key.StartsWith("x-", StringComparison.Ordinal) || Dropped.Contains(key)
                || (key == "format" && !(value is JsonValue f && ContractFormats.Keys.Contains(f.GetValue<string>()))))
            {
                continue;
            }

            result[key] = key switch
            {
                "$ref" => RewriteRef(value!.GetValue<string>()),
                _ when SchemaMaps.Contains(key) && value is JsonObject map => new JsonObject(map.Select(p => KeyValuePair.Create(p.Key, Convert(p.Value)))),
                _ when SingleSchemas.Contains(key) && value is JsonArray tuple => new JsonArray([.. tuple.Select(Convert)]),
                _ when SingleSchemas.Contains(key) => Convert(value),
                _ when SchemaLists.Contains(key) && value is JsonArray list => new JsonArray([.. list.Select(Convert)]),
                _ => value?.DeepClone(),
            };
        }

        // OpenAPI 3.0's boolean exclusiveMinimum/exclusiveMaximum turn the bound beside them exclusive.
        ExclusiveBound(result, "exclusiveMinimum", "minimum");
        ExclusiveBound(result, "exclusiveMaximum", "maximum");

        // OpenAPI 3.0's nullable: the value may also be null, whatever else the schema says (type, enum, $ref).
        if (obj["nullable"] is JsonValue nullable && nullable.GetValueKind() == JsonValueKind.True)
        {
            return new JsonObject { ["anyOf"] = new JsonArray(new JsonObject { ["type"] = "null" }, result) };
        }

        return result;
    }

    private static void ExclusiveBound(JsonObject schema, string exclusive, string bound)
    {
        if (schema[exclusive] is JsonValue flag && flag.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
        {
            schema.Remove(exclusive);
            if (flag.GetValueKind() == JsonValueKind.True && schema[bound] is { } value)
            {
                schema.Remove(bound);
                schema[exclusive] = value;
            }
        }
    }

    private static string RewriteRef(string reference) =>
        reference.StartsWith(ComponentsPrefix, StringComparison.Ordinal)
            ? "#/$defs/" + reference[ComponentsPrefix.Length..].Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)
            : throw new InvalidDataException($"A schema refers outside components/schemas: {reference}");
}

/// <summary>The formats the spec uses, with what each promises.</summary>
internal static class ContractFormats
{
    // Ten digits of seconds reach the year 2286; a millisecond timestamp has thirteen.
    private const long MaxUnixSeconds = 10_000_000_000;

    public static readonly HashSet<string> Keys = ["unixtime", "int64", "int32", "double", "float", "binary", "uri", "date", "date-time"];

    public static FormatRegistry Create()
    {
        var registry = new FormatRegistry();
        registry.Register(new PredicateFormat("unixtime", static (JsonElement e, out string? error) =>
        {
            error = null;
            if (e.ValueKind != JsonValueKind.Number)
            {
                return true; // type says what else is allowed
            }

            if (!e.TryGetInt64(out var seconds) || seconds < 0 || seconds >= MaxUnixSeconds)
            {
                error = $"{e.GetRawText()} is not a Unix time in whole seconds";
                return false;
            }

            return true;
        }));
        registry.Register(new PredicateFormat("int64", static (JsonElement e, out string? error) =>
        {
            error = e.ValueKind == JsonValueKind.Number && !e.TryGetInt64(out _) ? $"{e.GetRawText()} is not a 64-bit integer" : null;
            return error is null;
        }));
        registry.Register(new PredicateFormat("int32", static (JsonElement e, out string? error) =>
        {
            error = e.ValueKind == JsonValueKind.Number && !e.TryGetInt32(out _) ? $"{e.GetRawText()} is not a 32-bit integer" : null;
            return error is null;
        }));

        // The type keyword beside them already demands a number (or a string for binary): nothing more to check.
        registry.Register(new PredicateFormat("double", static _ => true));
        registry.Register(new PredicateFormat("float", static _ => true));
        registry.Register(new PredicateFormat("binary", static _ => true));
        return registry;
    }
}

/// <summary>YAML (the subset OpenAPI files use: no anchors, no tags) to <see cref="JsonNode"/>, with the core schema's scalars.</summary>
internal static partial class YamlJson
{
    public static JsonNode? Read(TextReader reader)
    {
        var parser = new Parser(reader);
        parser.Consume<StreamStart>();
        parser.Consume<DocumentStart>();
        var root = ReadNode(parser);
        parser.Consume<DocumentEnd>();
        return root;
    }

    private static JsonNode? ReadNode(IParser parser)
    {
        switch (parser.Current)
        {
            case Scalar scalar:
                parser.MoveNext();
                return ScalarValue(scalar);
            case MappingStart:
            {
                parser.MoveNext();
                var obj = new JsonObject();
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var key = parser.Consume<Scalar>().Value;
                    obj[key] = ReadNode(parser);
                }

                return obj;
            }

            case SequenceStart:
            {
                parser.MoveNext();
                var array = new JsonArray();
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    array.Add(ReadNode(parser));
                }

                return array;
            }

            default:
                throw new InvalidDataException($"Unsupported YAML event {parser.Current} at {parser.Current?.Start}.");
        }
    }

    private static JsonNode? ScalarValue(Scalar scalar)
    {
        var text = scalar.Value;
        if (scalar.Style != ScalarStyle.Plain)
        {
            return JsonValue.Create(text);
        }

        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (IntegerPattern().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (FloatPattern().IsMatch(text) && decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(text);
    }

    [GeneratedRegex(@"^[-+]?(0|[1-9][0-9]*)$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
