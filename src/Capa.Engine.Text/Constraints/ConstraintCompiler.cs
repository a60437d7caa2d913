using System.Runtime.CompilerServices;
using System.Text.Json;
using Capa.Constraints.Grammars;
using Capa.Constraints.Runtime;
using Capa.Constraints.Schema;
using Capa.Constraints.Vocabulary;
using Capa.Engine.Text.Generation;
using Capa.Engine.Text.Tools;

namespace Capa.Engine.Text.Constraints;

/// <summary>
/// Turns a request's output format (JSON mode, a JSON schema, forced tool calls) into a <see cref="TokenConstraint"/>
/// over one model's vocabulary, and keeps the compiled constraints (with their mask caches) for reuse by later
/// requests asking for the same thing. Schema errors surface as <see cref="GenerationRequestException"/> naming the
/// keyword and its path, before anything is generated. Thread-safe.
/// </summary>
public sealed class ConstraintCompiler
{
    /// <summary>Constraints kept per model before the least recently used is dropped.</summary>
    public const int DefaultCapacity = 16;

    private static readonly ConditionalWeakTable<LocalChatModel, ConstraintCompiler> PerModel = [];

    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, TokenConstraint Constraint)>> _cache = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, TokenConstraint Constraint)> _recency = new();
    private readonly int _capacity;

    /// <summary>Creates a compiler over <paramref name="vocabulary"/>.</summary>
    public ConstraintCompiler(TokenVocabulary vocabulary, int capacity = DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Vocabulary = vocabulary;
        _capacity = capacity;
    }

    /// <summary>The vocabulary masks are computed over.</summary>
    public TokenVocabulary Vocabulary { get; }

    /// <summary>The compiler of a loaded model (one per model, built on first use).</summary>
    public static ConstraintCompiler For(LocalChatModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return PerModel.GetValue(model, m => new ConstraintCompiler(ConstraintVocabularies.Get(m.Tokenizer, m.Engine.EosTokenIds)));
    }

    /// <summary>A per-choice processor factory for <see cref="GenerationRequest.LogitsProcessorFactory"/>: each choice gets its own state.</summary>
    public static Func<int, ILogitsProcessor> ProcessorFactory(TokenConstraint constraint)
    {
        ArgumentNullException.ThrowIfNull(constraint);
        return _ => new ConstraintLogitsProcessor(constraint.CreateState());
    }

    /// <summary>JSON mode: exactly one JSON object.</summary>
    public TokenConstraint JsonObject() => GetOrAdd("json_object", () => JsonGrammar.AnyObject());

    /// <summary>Structured outputs: a JSON value valid under <paramref name="schema"/>.</summary>
    /// <param name="name">The format's name (for messages).</param>
    /// <param name="schema">The JSON schema.</param>
    /// <param name="strict">OpenAI's <c>strict</c>: the schema must follow strict mode's rules.</param>
    /// <exception cref="GenerationRequestException">The schema is invalid or uses an unsupported keyword (param <c>response_format</c>).</exception>
    public TokenConstraint JsonSchema(string name, JsonElement schema, bool strict)
    {
        ArgumentNullException.ThrowIfNull(name);
        var options = new JsonSchemaOptions { Strict = strict, Subject = $"response_format '{name}'" };
        return GetOrAdd(
            $"schema\n{strict}\n{name}\n{schema.GetRawText()}",
            () => Compile(() => JsonGrammar.FromSchema(schema, options), "response_format"));
    }

    /// <summary>
    /// Forced tool calls (<c>tool_choice</c> required or a named function): one call, or up to
    /// <see cref="ToolCallFormat.MaxParallelCalls"/> when <paramref name="parallel"/>, in the model's format, each
    /// naming one of <paramref name="tools"/> with arguments valid under its parameters schema.
    /// </summary>
    /// <exception cref="GenerationRequestException">A parameters schema is invalid or unsupported (param <c>tools</c>).</exception>
    public TokenConstraint ToolCalls(ToolCallFormat format, IReadOnlyList<ToolDefinition> tools, bool parallel, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(tools);
        if (tools.Count == 0)
        {
            throw new GenerationRequestException("At least one tool is needed to force a tool call.", "tools", null);
        }

        var key = $"tools\n{format.Name}\n{parallel}\n{strict}\n" + string.Join('\n', tools.Select(t => t.Name + "\n" + t.Parameters.GetRawText()));
        return GetOrAdd(key, () => Compile(() => format.CallGrammar(tools, parallel, new JsonSchemaOptions { Strict = strict }), "tools"));
    }

    /// <summary>
    /// Tool calls in free output (<c>tool_choice</c> auto): what follows a call's opening tag, one call naming one of
    /// <paramref name="tools"/> with valid arguments, then the closing tag (see <see cref="ToolCallFormat.CallBodyGrammar"/>).
    /// </summary>
    /// <exception cref="GenerationRequestException">A parameters schema is invalid or unsupported (param <c>tools</c>).</exception>
    public TokenConstraint ToolCallBody(ToolCallFormat format, IReadOnlyList<ToolDefinition> tools, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(tools);
        var key = $"toolbody\n{format.Name}\n{strict}\n" + string.Join('\n', tools.Select(t => t.Name + "\n" + t.Parameters.GetRawText()));
        return GetOrAdd(key, () => Compile(() => format.CallBodyGrammar(tools, new JsonSchemaOptions { Strict = strict }), "tools"));
    }

    private static Grammar Compile(Func<Grammar> compile, string param)
    {
        try
        {
            return compile();
        }
        catch (UnsupportedSchemaException ex)
        {
            throw new GenerationRequestException(Describe(ex, "is not supported"), param, "unsupported_schema_keyword");
        }
        catch (InvalidSchemaException ex)
        {
            throw new GenerationRequestException(Describe(ex, "is invalid"), param, "invalid_schema");
        }
        catch (ArgumentException ex)
        {
            throw new GenerationRequestException(ex.Message.Split(" (Parameter", 2)[0], param, "invalid_value");
        }
    }

    // The compiler's message already explains; the keyword and path are repeated in a fixed form so clients can rely on them.
    private static string Describe(SchemaCompilationException ex, string verdict)
    {
        if (string.IsNullOrEmpty(ex.Keyword))
        {
            return ex.Message;
        }

        var head = $"Schema keyword '{ex.Keyword}' at '{ex.Path}' {verdict}";
        return ex.Message.Contains(ex.Keyword, StringComparison.Ordinal) && ex.Message.Contains(ex.Path, StringComparison.Ordinal)
            ? $"{head}: {ex.Message}"
            : $"{head}. {ex.Message}";
    }

    private TokenConstraint GetOrAdd(string key, Func<Grammar> grammar)
    {
        lock (_lock)
        {
            if (_cache.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                return node.Value.Constraint;
            }
        }

        // Compiled outside the lock: a schema can take a while, and two racing compilations of one key are harmless.
        var constraint = TokenConstraint.Create(grammar(), Vocabulary);
        lock (_lock)
        {
            if (_cache.TryGetValue(key, out var existing))
            {
                return existing.Value.Constraint;
            }

            var node = _recency.AddFirst((key, constraint));
            _cache[key] = node;
            while (_cache.Count > _capacity && _recency.Last is { } last)
            {
                _recency.RemoveLast();
                _cache.Remove(last.Value.Key);
            }

            return constraint;
        }
    }
}
