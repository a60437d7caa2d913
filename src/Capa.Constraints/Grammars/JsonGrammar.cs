using System.Text.Json;
using Capa.Constraints.Schema;

namespace Capa.Constraints.Grammars;

/// <summary>Grammars for JSON output.</summary>
public static class JsonGrammar
{
    /// <summary>
    /// json_object mode: exactly one RFC 8259 object (any keys, any values, full number syntax), after at
    /// most <see cref="JsonGrammarOptions.MaxLeadingWhitespace"/> blanks, with bounded whitespace runs.
    /// </summary>
    public static Grammar AnyObject(JsonGrammarOptions? options = null)
    {
        options ??= JsonGrammarOptions.Default;
        options.Validate();
        (FreeObjectNode obj, _) = BuildAnyValue(options, NumberNode.Free());
        return new Grammar(WithLeadingWhitespace(obj, options), "json object");
    }

    /// <summary>Any single JSON value (same layout rules as <see cref="AnyObject"/>).</summary>
    public static Grammar AnyValue(JsonGrammarOptions? options = null)
    {
        options ??= JsonGrammarOptions.Default;
        options.Validate();
        (_, Node value) = BuildAnyValue(options, NumberNode.Free());
        return new Grammar(WithLeadingWhitespace(value, options), "json value");
    }

    /// <summary>
    /// A JSON value valid under <paramref name="schema"/> (OpenAI's structured-outputs subset, documented in
    /// the project's README.md). Throws <see cref="UnsupportedSchemaException"/> for anything it cannot enforce and
    /// <see cref="InvalidSchemaException"/> for schemas OpenAI would reject or that admit no value.
    /// </summary>
    public static Grammar FromSchema(JsonElement schema, JsonSchemaOptions? options = null)
    {
        options ??= new JsonSchemaOptions();
        options.Format.Validate();
        Node root = new JsonSchemaCompiler(schema, options).CompileRoot();
        return new Grammar(WithLeadingWhitespace(root, options.Format), "json schema");
    }

    /// <summary>
    /// One tool call as a JSON object <c>{"name": "&lt;tool name&gt;", "&lt;argumentsKey&gt;": &lt;arguments&gt;}</c>,
    /// where the arguments validate against the parameters schema of the tool named (an anyOf over tools, each
    /// with its name as a constant). Qwen and Hermes use <c>arguments</c>, Llama 3 <c>parameters</c>. Compose
    /// with literals for the model's markers, e.g. <c>Sequence(Literal("&lt;tool_call&gt;\n"), call, Literal("\n&lt;/tool_call&gt;"))</c>,
    /// and <see cref="Grammar.Repeat"/> for parallel calls. No leading whitespace is added.
    /// </summary>
    public static Grammar ToolCall(IReadOnlyList<ToolDefinition> tools, JsonSchemaOptions? options = null, string argumentsKey = "arguments")
    {
        ArgumentNullException.ThrowIfNull(tools);
        ArgumentException.ThrowIfNullOrEmpty(argumentsKey);
        if (tools.Count == 0)
        {
            throw new ArgumentException("At least one tool is required.", nameof(tools));
        }

        options ??= new JsonSchemaOptions();
        options.Format.Validate();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var alternatives = new List<Node>();
        foreach (ToolDefinition tool in tools)
        {
            ArgumentException.ThrowIfNullOrEmpty(tool.Name, nameof(tools));
            if (!names.Add(tool.Name))
            {
                throw new ArgumentException($"Duplicate tool name '{tool.Name}'.", nameof(tools));
            }

            Node arguments = new JsonSchemaCompiler(tool.Parameters, options with { Subject = $"function '{tool.Name}'" }).CompileRoot();
            byte[] nameValue = JsonSerializer.SerializeToUtf8Bytes(tool.Name);
            alternatives.Add(new ObjectNode(
                [
                    new ObjectProperty("name", "\"name\""u8.ToArray(), new LiteralNode(nameValue), true),
                    new ObjectProperty(argumentsKey, JsonSerializer.SerializeToUtf8Bytes(argumentsKey), arguments, true),
                ],
                options.Format.MaxWhitespaceRun));
        }

        Node root = alternatives.Count == 1 ? alternatives[0] : new ChoiceNode([.. alternatives]);
        return new Grammar(root, $"tool call ({string.Join(", ", names)})");
    }

    internal static Node WithLeadingWhitespace(Node value, JsonGrammarOptions options) =>
        options.MaxLeadingWhitespace == 0 ? value : new SequenceNode([new WhitespaceNode(options.MaxLeadingWhitespace), value]);

    /// <summary>The object node and the any-value choice of the unconstrained JSON grammar.</summary>
    internal static (FreeObjectNode Object, Node Value) BuildAnyValue(JsonGrammarOptions options, NumberNode number)
    {
        var key = new StringNode();
        var obj = new FreeObjectNode(key, options.MaxWhitespaceRun);
        var array = new ArrayNode([], null, 0, int.MaxValue, options.MaxWhitespaceRun);
        var value = new ChoiceNode(
        [
            obj,
            array,
            new StringNode(),
            number,
            new LiteralSetNode(["true"u8.ToArray(), "false"u8.ToArray(), "null"u8.ToArray()]),
        ]);
        obj.Value = value;
        array.Items = value;
        array.MaxItems = int.MaxValue;
        return (obj, value);
    }
}
