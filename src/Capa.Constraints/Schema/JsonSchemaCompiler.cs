using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Capa.Constraints.Grammars;

namespace Capa.Constraints.Schema;

/// <summary>
/// Compiles a JSON schema (OpenAI's structured-outputs subset) to grammar nodes. The output of the grammar
/// is a subset of the schema's instances: objects carry only declared properties, in declaration order;
/// numbers have no exponent. Whatever cannot be enforced is refused, never ignored.
/// </summary>
internal sealed class JsonSchemaCompiler
{
    private static readonly HashSet<string> Annotations =
    [
        "title", "description", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly", "$schema",
    ];

    private static readonly HashSet<string> Supported =
    [
        "type", "enum", "const", "anyOf", "$ref", "$defs", "definitions", "properties", "required", "additionalProperties",
        "items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "unevaluatedProperties", "uniqueItems", "$id",
    ];

    private static readonly string[] ObjectKeywords = ["properties", "required", "additionalProperties", "unevaluatedProperties"];
    private static readonly string[] ArrayKeywords = ["items", "prefixItems", "minItems", "maxItems", "uniqueItems"];
    private static readonly string[] StringKeywords = ["minLength", "maxLength", "pattern", "format"];
    private static readonly string[] NumberKeywords = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];

    private static readonly JsonSerializerOptions EncodeOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly JsonElement _root;
    private readonly JsonSchemaOptions _options;
    private readonly int _ws;
    private readonly Dictionary<string, RefNode> _refs = new(StringComparer.Ordinal);
    private readonly List<Node> _nodes = [];
    private Node? _anyValue;

    public JsonSchemaCompiler(JsonElement root, JsonSchemaOptions options)
    {
        _root = root;
        _options = options;
        _ws = options.Format.MaxWhitespaceRun;
    }

    public Node CompileRoot()
    {
        if (_options.RequireObjectRoot)
        {
            CheckObjectRoot();
        }

        // Definitions are compiled even when unused, so that every unsupported keyword is reported.
        foreach (string defs in (string[])["$defs", "definitions"])
        {
            if (_root.ValueKind == JsonValueKind.Object && _root.TryGetProperty(defs, out JsonElement d))
            {
                if (d.ValueKind != JsonValueKind.Object)
                {
                    throw Invalid(defs, "#", $"'{defs}' must be an object");
                }

                foreach (JsonProperty p in d.EnumerateObject())
                {
                    Resolve($"#/{defs}/{Escape(p.Name)}", "#");
                }
            }
        }

        Node? root = Compile(_root, "#");
        if (root is null)
        {
            throw Invalid(string.Empty, "#", "The schema admits no value");
        }

        Finish(root);
        return root;
    }

    private void CheckObjectRoot()
    {
        if (_root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("type", "#", $"Invalid schema for {_options.Subject}: schema must be a JSON Schema of 'type: \"object\"', got a {_root.ValueKind.ToString().ToLowerInvariant()}.");
        }

        if (_root.TryGetProperty("anyOf", out _))
        {
            throw Invalid("anyOf", "#", $"Invalid schema for {_options.Subject}: schema must be a JSON Schema of 'type: \"object\"', got 'anyOf'.");
        }

        if (!_root.TryGetProperty("type", out JsonElement type) || type.ValueKind != JsonValueKind.String || type.GetString() != "object")
        {
            string got = _root.TryGetProperty("type", out JsonElement t) ? t.GetRawText().Trim('"') : "None";
            throw Invalid("type", "#", $"Invalid schema for {_options.Subject}: schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{got}\"'.");
        }
    }

    private static string Escape(string name) => name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static UnsupportedSchemaException Unsupported(string keyword, string path, string message) => new(keyword, path, message);

    private static InvalidSchemaException Invalid(string keyword, string path, string message) => new(keyword, path, message);

    private static string Context(string path)
    {
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries)[1..];
        return string.Join(", ", parts.Select(p => $"'{p.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)}'"));
    }

    private T Track<T>(T node)
        where T : Node
    {
        _nodes.Add(node);
        return node;
    }

    private Node AnyValue()
    {
        if (_anyValue is null)
        {
            (FreeObjectNode obj, Node value) = JsonGrammar.BuildAnyValue(_options.Format, Track(NumberNode.Bounded(false, null, false, null, false, _options.Format.MaxFractionDigits)));
            Track(obj);
            _anyValue = Track(value);
        }

        return _anyValue;
    }

    /// <summary>Compiles a schema; null when it admits no value (<c>false</c>).</summary>
    private Node? Compile(JsonElement schema, string path)
    {
        switch (schema.ValueKind)
        {
            case JsonValueKind.True:
                return AnyValue();
            case JsonValueKind.False:
                return null;
            case JsonValueKind.Object:
                break;
            default:
                throw Invalid(string.Empty, path, $"A schema must be an object or a boolean, found {schema.ValueKind.ToString().ToLowerInvariant()} at '{path}'");
        }

        var keywords = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty p in schema.EnumerateObject())
        {
            if (Annotations.Contains(p.Name) || p.Name.StartsWith("x-", StringComparison.Ordinal))
            {
                continue;
            }

            if (!Supported.Contains(p.Name))
            {
                throw Unsupported(p.Name, path, $"The keyword '{p.Name}' at '{path}' is not supported in a response schema");
            }

            keywords.Add(p.Name);
        }

        if (keywords.Contains("$id") && path != "#")
        {
            throw Unsupported("$id", path, $"'$id' at '{path}' is not supported (only at the root)");
        }

        keywords.Remove("$id");
        keywords.Remove("$defs");
        keywords.Remove("definitions");
        if (schema.TryGetProperty("uniqueItems", out JsonElement unique))
        {
            if (unique.ValueKind == JsonValueKind.True)
            {
                throw Unsupported("uniqueItems", path, $"'uniqueItems: true' at '{path}' is not supported");
            }

            keywords.Remove("uniqueItems");
        }

        if (schema.TryGetProperty("unevaluatedProperties", out JsonElement unevaluated) && unevaluated.ValueKind != JsonValueKind.False)
        {
            throw Unsupported("unevaluatedProperties", path, $"'unevaluatedProperties' other than false at '{path}' is not supported");
        }

        if (keywords.Contains("$ref"))
        {
            RequireAlone("$ref", keywords, path);
            JsonElement r = schema.GetProperty("$ref");
            if (r.ValueKind != JsonValueKind.String)
            {
                throw Invalid("$ref", path, $"'$ref' at '{path}' must be a string");
            }

            return Resolve(r.GetString()!, path);
        }

        if (keywords.Contains("anyOf"))
        {
            RequireAlone("anyOf", keywords, path);
            JsonElement alternatives = schema.GetProperty("anyOf");
            if (alternatives.ValueKind != JsonValueKind.Array || alternatives.GetArrayLength() == 0)
            {
                throw Invalid("anyOf", path, $"'anyOf' at '{path}' must be a non-empty array");
            }

            var nodes = new List<Node>();
            int i = 0;
            foreach (JsonElement alternative in alternatives.EnumerateArray())
            {
                if (Compile(alternative, $"{path}/anyOf/{i++}") is { } n)
                {
                    nodes.Add(n);
                }
            }

            return nodes.Count == 0 ? null : Track(new ChoiceNode([.. nodes]));
        }

        List<string> types = ReadTypes(schema, path);
        if (keywords.Contains("enum") || keywords.Contains("const"))
        {
            return CompileEnum(schema, keywords, types, path);
        }

        if (types.Count == 0)
        {
            // No type: the keywords present say which kinds they constrain; with none, any value.
            if (ObjectKeywords.Any(keywords.Contains))
            {
                types.Add("object");
            }

            if (ArrayKeywords.Any(keywords.Contains))
            {
                types.Add("array");
            }

            if (StringKeywords.Any(keywords.Contains))
            {
                types.Add("string");
            }

            if (NumberKeywords.Any(keywords.Contains))
            {
                types.Add("number");
            }

            if (types.Count == 0)
            {
                return AnyValue();
            }
        }

        var alternativesByType = new List<Node>();
        foreach (string type in types)
        {
            Node? node = type switch
            {
                "object" => CompileObject(schema, path),
                "array" => CompileArray(schema, path),
                "string" => CompileString(schema, path),
                "number" => CompileNumber(schema, path, integer: false),
                "integer" => CompileNumber(schema, path, integer: true),
                "boolean" => Track(new LiteralSetNode(["true"u8.ToArray(), "false"u8.ToArray()])),
                "null" => Track(new LiteralNode("null"u8.ToArray())),
                _ => throw new InvalidOperationException(),
            };
            if (node is not null)
            {
                alternativesByType.Add(node);
            }
        }

        return alternativesByType.Count switch
        {
            0 => null,
            1 => alternativesByType[0],
            _ => Track(new ChoiceNode([.. alternativesByType])),
        };
    }

    private static void RequireAlone(string keyword, HashSet<string> keywords, string path)
    {
        string? other = keywords.FirstOrDefault(k => k != keyword);
        if (other is not null)
        {
            throw Unsupported(other, path, $"'{other}' alongside '{keyword}' at '{path}' is not supported");
        }
    }

    private static List<string> ReadTypes(JsonElement schema, string path)
    {
        var types = new List<string>();
        if (!schema.TryGetProperty("type", out JsonElement type))
        {
            return types;
        }

        IEnumerable<JsonElement> items = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray() : [type];
        foreach (JsonElement t in items)
        {
            string? name = t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (name is not ("object" or "array" or "string" or "number" or "integer" or "boolean" or "null"))
            {
                throw Invalid("type", path, $"Invalid type {t.GetRawText()} at '{path}'");
            }

            if (types.Contains(name))
            {
                throw Invalid("type", path, $"Duplicate type '{name}' at '{path}'");
            }

            types.Add(name);
        }

        if (types.Count == 0)
        {
            throw Invalid("type", path, $"'type' at '{path}' must not be empty");
        }

        return types;
    }

    private Node? CompileEnum(JsonElement schema, HashSet<string> keywords, List<string> types, string path)
    {
        string? other = keywords.FirstOrDefault(k => k is not ("enum" or "const" or "type"));
        if (other is not null)
        {
            throw Unsupported(other, path, $"'{other}' alongside 'enum' or 'const' at '{path}' is not supported");
        }

        var values = new List<JsonElement>();
        if (schema.TryGetProperty("enum", out JsonElement e))
        {
            if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() == 0)
            {
                throw Invalid("enum", path, $"'enum' at '{path}' must be a non-empty array");
            }

            values.AddRange(e.EnumerateArray());
        }

        if (schema.TryGetProperty("const", out JsonElement c))
        {
            values = keywords.Contains("enum") ? [.. values.Where(v => JsonElement.DeepEquals(v, c))] : [c];
        }

        var encoded = new List<byte[]>();
        foreach (JsonElement v in values)
        {
            if (types.Count == 0 || types.Any(t => HasType(v, t)))
            {
                encoded.Add(JsonSerializer.SerializeToUtf8Bytes(v, EncodeOptions));
            }
        }

        return encoded.Count == 0 ? null : Track(new LiteralSetNode(encoded));
    }

    private static bool HasType(JsonElement v, string type) => type switch
    {
        "object" => v.ValueKind == JsonValueKind.Object,
        "array" => v.ValueKind == JsonValueKind.Array,
        "string" => v.ValueKind == JsonValueKind.String,
        "number" => v.ValueKind == JsonValueKind.Number,
        "integer" => v.ValueKind == JsonValueKind.Number && v.TryGetDecimal(out decimal d) && decimal.Truncate(d) == d,
        "boolean" => v.ValueKind is JsonValueKind.True or JsonValueKind.False,
        _ => v.ValueKind == JsonValueKind.Null,
    };

    private Node? CompileObject(JsonElement schema, string path)
    {
        var names = new List<(string Name, JsonElement Schema)>();
        if (schema.TryGetProperty("properties", out JsonElement props))
        {
            if (props.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("properties", path, $"'properties' at '{path}' must be an object");
            }

            names.AddRange(props.EnumerateObject().Select(p => (p.Name, p.Value)));
        }

        var required = new HashSet<string>(StringComparer.Ordinal);
        if (schema.TryGetProperty("required", out JsonElement req))
        {
            if (req.ValueKind != JsonValueKind.Array || req.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String))
            {
                throw Invalid("required", path, $"'required' at '{path}' must be an array of strings");
            }

            foreach (JsonElement r in req.EnumerateArray())
            {
                string name = r.GetString()!;
                if (!names.Any(n => n.Name == name))
                {
                    throw Invalid("required", path, $"Required property '{name}' at '{path}' is not defined in 'properties'");
                }

                required.Add(name);
            }
        }

        bool additionalFalse = schema.TryGetProperty("additionalProperties", out JsonElement additional) && additional.ValueKind == JsonValueKind.False;
        if (schema.TryGetProperty("additionalProperties", out additional) && additional.ValueKind is not (JsonValueKind.False or JsonValueKind.True or JsonValueKind.Object))
        {
            throw Invalid("additionalProperties", path, $"'additionalProperties' at '{path}' must be a boolean or a schema");
        }

        if (_options.Strict)
        {
            if (!additionalFalse)
            {
                throw Invalid("additionalProperties", path, $"Invalid schema for {_options.Subject}: In context=({Context(path)}), 'additionalProperties' is required to be supplied and to be false.");
            }

            string? missing = names.Select(n => n.Name).FirstOrDefault(n => !required.Contains(n));
            if (missing is not null)
            {
                throw Invalid("required", path, $"Invalid schema for {_options.Subject}: In context=({Context(path)}), 'required' is required to be supplied and to be an array including every key in properties. Missing '{missing}'.");
            }
        }

        var properties = new List<ObjectProperty>();
        foreach ((string name, JsonElement s) in names)
        {
            Node? value = Compile(s, $"{path}/properties/{Escape(name)}");
            bool isRequired = required.Contains(name);
            if (value is null)
            {
                if (isRequired)
                {
                    return null;
                }

                continue;
            }

            properties.Add(new ObjectProperty(name, JsonSerializer.SerializeToUtf8Bytes(name, EncodeOptions), value, isRequired));
        }

        return Track(new ObjectNode(properties, _ws));
    }

    private Node? CompileArray(JsonElement schema, string path)
    {
        int min = ReadCount(schema, "minItems", path) ?? 0;
        int max = ReadCount(schema, "maxItems", path) ?? int.MaxValue;
        if (min > max)
        {
            throw Invalid("minItems", path, $"'minItems' ({min}) exceeds 'maxItems' ({max}) at '{path}'");
        }

        var prefix = new List<Node>();
        if (schema.TryGetProperty("prefixItems", out JsonElement pi))
        {
            if (pi.ValueKind != JsonValueKind.Array)
            {
                throw Invalid("prefixItems", path, $"'prefixItems' at '{path}' must be an array");
            }

            int i = 0;
            foreach (JsonElement item in pi.EnumerateArray())
            {
                Node? n = Compile(item, $"{path}/prefixItems/{i++}");
                if (n is null)
                {
                    // No array can have an item here: the array ends before it.
                    max = Math.Min(max, prefix.Count);
                    break;
                }

                prefix.Add(n);
            }
        }

        Node? items = schema.TryGetProperty("items", out JsonElement it) ? Compile(it, $"{path}/items") : AnyValue();
        var node = new ArrayNode([.. prefix], items, min, max, _ws);
        return node.MaxItems < min ? null : Track(node);
    }

    private static int? ReadCount(JsonElement schema, string keyword, string path)
    {
        if (!schema.TryGetProperty(keyword, out JsonElement v))
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDecimal(out decimal d) || d < 0 || decimal.Truncate(d) != d)
        {
            throw Invalid(keyword, path, $"'{keyword}' at '{path}' must be a non-negative integer");
        }

        return d > int.MaxValue ? int.MaxValue : (int)d;
    }

    private Node? CompileString(JsonElement schema, string path)
    {
        int min = ReadCount(schema, "minLength", path) ?? 0;
        int max = ReadCount(schema, "maxLength", path) ?? int.MaxValue;
        if (min > max)
        {
            throw Invalid("minLength", path, $"'minLength' ({min}) exceeds 'maxLength' ({max}) at '{path}'");
        }

        if (Math.Max(min, max == int.MaxValue ? 0 : max) > 100_000)
        {
            throw Unsupported(max == int.MaxValue ? "minLength" : "maxLength", path, $"A string length bound above 100000 at '{path}' is not supported");
        }

        CharDfa? dfa = null;
        bool hasPattern = schema.TryGetProperty("pattern", out JsonElement pattern);
        bool hasFormat = schema.TryGetProperty("format", out JsonElement format);
        if (hasPattern && hasFormat)
        {
            throw Unsupported("format", path, $"'format' together with 'pattern' at '{path}' is not supported");
        }

        if (hasPattern)
        {
            if (pattern.ValueKind != JsonValueKind.String)
            {
                throw Invalid("pattern", path, $"'pattern' at '{path}' must be a string");
            }

            dfa = CompileRegex(pattern.GetString()!, "pattern", path);
        }
        else if (hasFormat)
        {
            string name = format.ValueKind == JsonValueKind.String ? format.GetString()! : format.GetRawText();
            string regex = StringFormats.Pattern(name)
                ?? throw Unsupported("format", path, $"The format '{name}' at '{path}' is not supported (supported: {string.Join(", ", StringFormats.Names)})");
            dfa = CompileRegex(regex, "format", path);
        }

        if (dfa is not null && (long)dfa.StateCount * ((max == int.MaxValue ? min : max) + 1) > 500_000)
        {
            throw Unsupported("maxLength", path, $"A pattern with a length bound this large at '{path}' is not supported");
        }

        var node = new StringNode(min, max, dfa);
        return node.IsSatisfiable ? Track(node) : null;
    }

    private static CharDfa CompileRegex(string pattern, string keyword, string path)
    {
        try
        {
            return RegexCompiler.Compile(pattern);
        }
        catch (NotSupportedException ex)
        {
            throw Unsupported(keyword, path, $"The {keyword} at '{path}': {ex.Message}");
        }
    }

    private Node? CompileNumber(JsonElement schema, string path, bool integer)
    {
        (decimal? lo, bool loEx) = ReadBound(schema, "minimum", "exclusiveMinimum", path, lower: true);
        (decimal? hi, bool hiEx) = ReadBound(schema, "maximum", "exclusiveMaximum", path, lower: false);
        NumberNode node = NumberNode.Bounded(integer, lo, loEx, hi, hiEx, _options.Format.MaxFractionDigits);
        return node.IsSatisfiable ? Track(node) : null;
    }

    private static (decimal? Value, bool Exclusive) ReadBound(JsonElement schema, string inclusive, string exclusive, string path, bool lower)
    {
        decimal? value = null;
        bool isExclusive = false;
        foreach ((string keyword, bool ex) in new[] { (inclusive, false), (exclusive, true) })
        {
            if (!schema.TryGetProperty(keyword, out JsonElement v))
            {
                continue;
            }

            if (v.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                throw Unsupported(keyword, path, $"The boolean form of '{keyword}' at '{path}' (draft 4) is not supported");
            }

            if (v.ValueKind != JsonValueKind.Number)
            {
                throw Invalid(keyword, path, $"'{keyword}' at '{path}' must be a number");
            }

            if (!v.TryGetDecimal(out decimal d))
            {
                double x = v.GetDouble();
                if (Math.Abs(x) < 1e20)
                {
                    throw Unsupported(keyword, path, $"The bound {v.GetRawText()} of '{keyword}' at '{path}' is not supported");
                }

                // Beyond every number the grammar writes: no constraint on that side, or none at all.
                if ((x > 0) == lower)
                {
                    return (lower ? decimal.MaxValue : decimal.MinValue, false);
                }

                continue;
            }

            d = Math.Clamp(d, -1e20m, 1e20m);
            bool tighter = value is null || (lower ? d > value || (d == value && ex) : d < value || (d == value && ex));
            if (tighter)
            {
                value = d;
                isExclusive = ex;
            }
        }

        return (value, isExclusive);
    }

    private Node? Resolve(string reference, string path)
    {
        if (!reference.StartsWith('#'))
        {
            throw Unsupported("$ref", path, $"The $ref '{reference}' at '{path}' is not supported (only local references starting with '#')");
        }

        if (_refs.TryGetValue(reference, out RefNode? existing))
        {
            return existing;
        }

        JsonElement target = _root;
        string pointer = reference[1..];
        if (pointer.Length > 0)
        {
            if (!pointer.StartsWith('/'))
            {
                throw Unsupported("$ref", path, $"The $ref '{reference}' at '{path}' is not supported (anchors are not)");
            }

            foreach (string raw in pointer[1..].Split('/'))
            {
                string token = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
                if (target.ValueKind == JsonValueKind.Object && target.TryGetProperty(token, out JsonElement next))
                {
                    target = next;
                }
                else if (target.ValueKind == JsonValueKind.Array && int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < target.GetArrayLength())
                {
                    target = target[index];
                }
                else
                {
                    throw Invalid("$ref", path, $"The reference '{reference}' at '{path}' does not resolve");
                }
            }
        }

        var node = Track(new RefNode());
        _refs[reference] = node;
        Node? compiled = Compile(target, reference);
        if (compiled is null)
        {
            // Recursive uses already hold the node; Finish turns it into a choice with no alternative.
            return null;
        }

        node.Target = compiled;
        return node;
    }

    /// <summary>
    /// Removes what can never finish (recursion without a base case, references to <c>false</c>), and
    /// refuses reference cycles that consume nothing, so that generation never reaches a dead end.
    /// </summary>
    private void Finish(Node root)
    {
        foreach (RefNode r in _nodes.OfType<RefNode>())
        {
            if (r.Target is null)
            {
                // A reference whose target admits no value; it is unproductive below.
                r.Target = new ChoiceNode([]);
            }
        }

        var productive = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (Node n in _nodes.Append(root))
            {
                if (!productive.Contains(n) && IsProductive(n, productive))
                {
                    productive.Add(n);
                    changed = true;
                }
            }
        }

        if (!productive.Contains(root))
        {
            throw Invalid("$ref", "#", "The schema admits no finite value (recursion without a base case)");
        }

        foreach (Node n in _nodes)
        {
            switch (n)
            {
                case ChoiceNode c:
                    c.Alternatives = [.. c.Alternatives.Where(a => Productive(a, productive))];
                    break;
                case ObjectNode o:
                    o.RemoveProperties(p => !p.Required && !Productive(p.Value, productive));
                    break;
                case ArrayNode a:
                    for (int i = 0; i < a.Prefix.Length && i < a.MaxItems; i++)
                    {
                        if (!Productive(a.Prefix[i], productive))
                        {
                            a.MaxItems = i;
                        }
                    }

                    if (a.Items is not null && !Productive(a.Items, productive))
                    {
                        a.MaxItems = Math.Min(a.MaxItems, a.Prefix.Length);
                    }

                    break;
            }
        }

        // A choice or reference that reaches itself without consuming a byte would recurse forever.
        var state = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
        foreach (Node n in _nodes)
        {
            CheckEntryCycle(n, state);
        }
    }

    private static bool Productive(Node n, HashSet<Node> productive) =>
        productive.Contains(n) || n is not (ChoiceNode or RefNode or ObjectNode or ArrayNode);

    private static bool IsProductive(Node n, HashSet<Node> productive) => n switch
    {
        ChoiceNode c => c.Alternatives.Any(a => Productive(a, productive)),
        RefNode r => Productive(r.Target!, productive),
        ObjectNode o => o.Properties.All(p => !p.Required || Productive(p.Value, productive)),
        ArrayNode a => Enumerable.Range(0, a.MinItems).All(i => Productive(i < a.Prefix.Length ? a.Prefix[i] : a.Items!, productive)),
        _ => true,
    };

    private static void CheckEntryCycle(Node n, Dictionary<Node, int> state)
    {
        if (n is not (ChoiceNode or RefNode))
        {
            return;
        }

        if (state.TryGetValue(n, out int s))
        {
            if (s == 1)
            {
                throw Unsupported("$ref", "#", "A reference cycle that produces no output before recursing is not supported");
            }

            return;
        }

        state[n] = 1;
        IEnumerable<Node> next = n is ChoiceNode c ? c.Alternatives : [((RefNode)n).Target!];
        foreach (Node m in next)
        {
            CheckEntryCycle(m, state);
        }

        state[n] = 2;
    }
}
