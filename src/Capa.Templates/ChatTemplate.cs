using Capa.Templates.Runtime;
using Capa.Templates.Syntax;

namespace Capa.Templates;

/// <summary>
/// A parsed chat template (the Jinja subset that model chat templates use), rendered the way Hugging Face renders it:
/// <c>trim_blocks</c> and <c>lstrip_blocks</c> on, output identical to <c>@huggingface/jinja</c> (transformers.js).
/// Parse once, render many times; rendering is thread-safe.
/// </summary>
/// <example>
/// <code>
/// var template = ChatTemplate.Parse(KnownTemplates.Get("qwen2.5"));
/// string prompt = template.Render(new Dictionary&lt;string, object?&gt;
/// {
///     ["messages"] = new[] { new Dictionary&lt;string, object?&gt; { ["role"] = "user", ["content"] = "Hi" } },
///     ["add_generation_prompt"] = true,
/// });
/// </code>
/// </example>
public sealed class ChatTemplate
{
    private readonly Node[] _program;
    private readonly SourceMap _map;

    private ChatTemplate(string source, Node[] program, SourceMap map)
    {
        Source = source;
        _program = program;
        _map = map;
    }

    /// <summary>The template text this instance was parsed from.</summary>
    public string Source { get; }

    /// <summary>Parses <paramref name="source"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="TemplateException">The template is not valid; <see cref="TemplateException.Line"/> and
    /// <see cref="TemplateException.Column"/> locate the problem.</exception>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        (string text, int[] toOriginal) = Preprocessor.Run(source);
        var map = new SourceMap(source, toOriginal);
        List<Token> tokens = Lexer.Tokenize(text, map);
        Node[] program = Parser.Parse(tokens, map, text.Length);
        return new ChatTemplate(source, program, map);
    }

    /// <summary>Renders the template with <paramref name="variables"/> (typically <c>messages</c>, <c>tools</c>,
    /// <c>add_generation_prompt</c>, <c>bos_token</c>, <c>eos_token</c>), using the system clock for <c>strftime_now</c>.</summary>
    /// <param name="variables">Values may be strings, booleans, integers, doubles, null, lists or other enumerables,
    /// dictionaries with string keys, <see cref="System.Text.Json.JsonElement"/> or <see cref="System.Text.Json.Nodes.JsonNode"/>.</param>
    /// <exception cref="TemplateException">Rendering failed, or the template called <c>raise_exception</c>
    /// (<see cref="TemplateErrorKind.Raised"/>, with the template's message unchanged).</exception>
    /// <exception cref="ArgumentException">A variable has a type that cannot be passed to a template.</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables) => Render(variables, TimeProvider.System);

    /// <summary>Renders the template, reading the local date and time for <c>strftime_now</c> from <paramref name="clock"/>.</summary>
    /// <inheritdoc cref="Render(IReadOnlyDictionary{string, object?})"/>
    public string Render(IReadOnlyDictionary<string, object?> variables, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(variables);
        ArgumentNullException.ThrowIfNull(clock);
        return new Interpreter(_map, clock).Render(_program, variables);
    }

    /// <summary>
    /// Renders the template as <see cref="Render(IReadOnlyDictionary{string, object?}, TimeProvider)"/> does, and
    /// reports where text from data (every variable but <see cref="TemplateDataMarking.MarkupVariables"/>) writes one
    /// of <paramref name="marking"/>'s control texts, so that a tokenizer reads those as plain text and only the
    /// template's own markup as control tokens.
    /// </summary>
    /// <param name="variables">The variables, as for <see cref="Render(IReadOnlyDictionary{string, object?})"/>.</param>
    /// <param name="marking">The control texts and the markup variables.</param>
    /// <param name="clock">The clock for <c>strftime_now</c>; null for the system clock.</param>
    /// <param name="maxOutputChars">When set, rendering stops as soon as the output would pass this many characters
    /// (<see cref="TemplateErrorKind.OutputLimit"/>), before copying the text that passes it.</param>
    /// <exception cref="TemplateException">Rendering failed, the template raised, or the output passed <paramref name="maxOutputChars"/>.</exception>
    /// <exception cref="ArgumentException">A variable has a type that cannot be passed to a template.</exception>
    public MarkedText RenderMarked(IReadOnlyDictionary<string, object?> variables, TemplateDataMarking marking, TimeProvider? clock = null, int? maxOutputChars = null)
    {
        ArgumentNullException.ThrowIfNull(variables);
        ArgumentNullException.ThrowIfNull(marking);
        var marker = new DataMarker(marking, Source);
        var prepared = marker.Prepare(variables);
        return marker.Finish(new Interpreter(_map, clock ?? TimeProvider.System, maxOutputChars).Render(_program, prepared));
    }
}
