using Capa.Constraints.Grammars;
using System.Runtime.CompilerServices;
using Capa.Engine.Text.Generation;
using Capa.Models.Config;
using Capa.Templates;

namespace Capa.Engine.Text.Tools;

/// <summary>
/// How a model family writes tool calls. Qwen2.5/Qwen3 (and Hermes-style templates) wrap each call in
/// <c>&lt;tool_call&gt;\n{"name": ..., "arguments": ...}\n&lt;/tool_call&gt;</c>; Llama 3.x writes a bare JSON object
/// <c>{"name": ..., "parameters": ...}</c> (optionally after <c>&lt;|python_tag|&gt;</c>). Models whose template knows
/// no tool format get the tagged form, the most widely trained one.
/// </summary>
public sealed class ToolCallFormat
{
    private static readonly ConditionalWeakTable<LocalChatModel, ToolCallFormat> PerModel = [];

    /// <summary>Most calls one forced, parallel response may hold.</summary>
    public const int MaxParallelCalls = 8;

    private ToolCallFormat(string name, string argumentsKey, string? openTag, string? closeTag, string separator)
    {
        Name = name;
        ArgumentsKey = argumentsKey;
        OpenTag = openTag;
        CloseTag = closeTag;
        Separator = separator;
    }

    /// <summary><c>&lt;tool_call&gt;</c> blocks with <c>arguments</c> (Qwen2.5, Qwen3, Hermes).</summary>
    public static ToolCallFormat Hermes { get; } = new("hermes", "arguments", "<tool_call>\n", "\n</tool_call>", "\n");

    /// <summary>Bare JSON objects with <c>parameters</c> (Llama 3.x JSON tool calling).</summary>
    public static ToolCallFormat Llama3Json { get; } = new("llama3-json", "parameters", null, null, "\n");

    /// <summary>The fallback for templates with no tool format of their own: the tagged form.</summary>
    public static ToolCallFormat Generic { get; } = new("generic", "arguments", "<tool_call>\n", "\n</tool_call>", "\n");

    /// <summary>A short name (part of cache keys and logs).</summary>
    public string Name { get; }

    /// <summary>The key holding a call's arguments: <c>arguments</c> or <c>parameters</c>.</summary>
    public string ArgumentsKey { get; }

    /// <summary>The text opening a call, with its newline; null for bare JSON calls.</summary>
    public string? OpenTag { get; }

    /// <summary>The text closing a call, with its newline; null for bare JSON calls.</summary>
    public string? CloseTag { get; }

    /// <summary>What separates parallel calls.</summary>
    public string Separator { get; }

    /// <summary>Whether calls are wrapped in tags (otherwise the whole output is the calls).</summary>
    public bool IsTagged => OpenTag is not null;

    /// <summary>The opening tag without its newline (<c>&lt;tool_call&gt;</c>): what starts a call in free output; null for bare JSON calls.</summary>
    public string? OpenMarker => OpenTag?.TrimEnd();

    /// <summary>The format a model writes, from its chat template (what the model was trained with) and family.</summary>
    public static ToolCallFormat Detect(string chatTemplate, ModelFamily family)
    {
        ArgumentNullException.ThrowIfNull(chatTemplate);
        if (chatTemplate.Contains("<tool_call>", StringComparison.Ordinal))
        {
            return Hermes;
        }

        if (family == ModelFamily.Llama
            && (chatTemplate.Contains("<|python_tag|>", StringComparison.Ordinal) || chatTemplate.Contains("\"parameters\"", StringComparison.Ordinal)))
        {
            return Llama3Json;
        }

        return family is ModelFamily.Qwen2 or ModelFamily.Qwen3 ? Hermes : Generic;
    }

    /// <summary>The format of a loaded model, from its chat template (the folder's, or the built-in one it falls back to).</summary>
    public static ToolCallFormat For(LocalChatModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return PerModel.GetValue(model, m =>
        {
            var family = m.Folder.Config.Family;
            return Detect(m.Folder.ChatTemplate ?? KnownTemplates.Get(LocalChatModel.BuiltInTemplateFamily(family)), family);
        });
    }

    /// <summary>
    /// The grammar of a forced response: one call (or 1 to <see cref="MaxParallelCalls"/> when
    /// <paramref name="parallel"/>), each naming one of <paramref name="tools"/> with valid arguments.
    /// </summary>
    public Grammar CallGrammar(IReadOnlyList<ToolDefinition> tools, bool parallel, JsonSchemaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var call = JsonGrammar.ToolCall(tools, options, ArgumentsKey);
        if (OpenTag is not null && CloseTag is not null)
        {
            call = Grammar.Sequence(Grammar.Literal(OpenTag), call, Grammar.Literal(CloseTag));
        }

        return parallel ? Grammar.Repeat(call, 1, MaxParallelCalls, Grammar.Literal(Separator)) : call;
    }

    /// <summary>
    /// The grammar of what follows <see cref="OpenMarker"/> in free output (<c>tool_choice</c> auto): the rest of the
    /// opening tag, one call naming one of <paramref name="tools"/> with valid arguments, and the closing tag.
    /// </summary>
    /// <exception cref="InvalidOperationException">The format has no tags.</exception>
    public Grammar CallBodyGrammar(IReadOnlyList<ToolDefinition> tools, JsonSchemaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tools);
        if (OpenTag is null || CloseTag is null)
        {
            throw new InvalidOperationException($"The {Name} format has no tags to trigger on.");
        }

        return Grammar.Sequence(Grammar.Literal(OpenTag[OpenMarker!.Length..]), JsonGrammar.ToolCall(tools, options, ArgumentsKey), Grammar.Literal(CloseTag));
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
