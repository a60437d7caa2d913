using System.ClientModel;
using System.CommandLine;
using System.Text;
using System.Globalization;
using System.Text.Json;
using Capa.Cli.Repro;
using OpenAI.Chat;

namespace Capa.Cli.Commands;

/// <summary>
/// <c>capa json "PROMPT" [--schema FILE]</c>: the tutorial's JSON-mode example. Asks for
/// <c>response_format: json_object</c>, or a strict <c>json_schema</c> read from a file, and pretty-prints the object.
/// </summary>
internal static class JsonCommand
{
    internal const string DefaultModel = "gpt-3.5-turbo-1106";
    internal const string DefaultSystem = "You are a helpful assistant designed to output JSON.";
    internal const string DefaultPrompt =
        "Now I want you to score the sentence 'I like apples' on a scale of 1 to 10 with output format as:{'score': score}, for example, {'score': 0.5}";

    private const int ExcerptLength = 300;

    public static Command Create()
    {
        var prompt = new Argument<string?>("prompt")
        {
            Description = "The user message (default: the tutorial's 'score the sentence' request).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var schema = new Option<string?>("--schema")
        {
            Description = "A JSON Schema file: sends response_format json_schema (strict; name from the file name) instead of json_object.",
        };
        var model = new Option<string>("--model", "-m") { Description = "Model id or alias.", DefaultValueFactory = _ => DefaultModel };
        var system = new Option<string>("--system", "-s") { Description = "The system message.", DefaultValueFactory = _ => DefaultSystem };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "max_tokens of the request (default: the server's)." };
        var baseUrl = ClientConnection.BaseUrlOption();
        var apiKey = ClientConnection.ApiKeyOption();

        var command = new Command(
            "json",
            "Ask for a JSON answer (JSON mode, or structured output with --schema) and pretty-print it. "
            + "Exit code 1 when the answer is not valid JSON (for example cut off by max_tokens).")
        {
            prompt, schema, model, system, maxTokens, baseUrl, apiKey,
        };
        command.SetAction((parse, ct) => CliRunner.RunAsync(async () =>
        {
            var connection = ClientConnection.Resolve(parse.GetValue(baseUrl), parse.GetValue(apiKey));
            var request = new JsonRequest
            {
                Model = RequireText(parse.GetValue(model), "--model"),
                System = parse.GetValue(system) ?? DefaultSystem,
                Prompt = RequireText(parse.GetValue(prompt) ?? DefaultPrompt, "The prompt"),
                MaxTokens = parse.GetValue(maxTokens) is { } max && max < 1
                    ? throw new CliException($"--max-tokens must be at least 1; got {max}.")
                    : parse.GetValue(maxTokens),
                Schema = parse.GetValue(schema) is { Length: > 0 } file ? JsonSchemaFile.Load(file) : null,
            };
            string pretty = await RunAsync(connection, request, ct).ConfigureAwait(false);
            parse.InvocationConfiguration.Output.WriteLine(pretty);
        }));
        return command;
    }

    /// <summary>Sends the request and returns the answer pretty-printed, or throws <see cref="CliException"/> saying why it is not JSON.</summary>
    internal static async Task<string> RunAsync(ClientConnection connection, JsonRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(request);
        var client = connection.CreateClient().GetChatClient(request.Model);
        var options = new ChatCompletionOptions
        {
            ResponseFormat = request.Schema is { } schema
                ? ChatResponseFormat.CreateJsonSchemaFormat(schema.Name, schema.Schema, jsonSchemaIsStrict: true)
                : ChatResponseFormat.CreateJsonObjectFormat(),
            MaxOutputTokenCount = request.MaxTokens,
        };
        ChatMessage[] messages = [new SystemChatMessage(request.System), new UserChatMessage(request.Prompt)];
        ClientResult<ChatCompletion> result = await EndpointErrors.CallAsync(connection.BaseUrl, () => client.CompleteChatAsync(messages, options, ct)).ConfigureAwait(false);
        var completion = result.Value;
        if (!string.IsNullOrEmpty(completion.Refusal))
        {
            throw new CliException($"the model refused: {completion.Refusal}");
        }

        var content = new StringBuilder();
        foreach (var part in completion.Content)
        {
            content.Append(part.Text);
        }

        return Pretty(content.ToString(), ReproRunner.WireName(completion.FinishReason));
    }

    /// <summary>Indents a JSON object, keeping non-ASCII text as is; explains clearly when the text is not one.</summary>
    internal static string Pretty(string content, string finishReason)
    {
        ArgumentNullException.ThrowIfNull(content);
        string why = finishReason == "length"
            ? " (finish_reason length: the answer was cut off at the token limit: --max-tokens, or the model's context length)"
            : $" (finish_reason {finishReason})";
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content);
        }
        catch (JsonException e)
        {
            string detail = e.LineNumber is { } line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : string.Empty;
            throw new CliException($"the answer is not valid JSON{detail}{why}: {Excerpt(content)}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CliException($"the answer is JSON but not an object (it is {document.RootElement.ValueKind.ToString().ToLowerInvariant()}){why}: {Excerpt(content)}");
            }

            var pretty = new StringBuilder(content.Length * 2);
            WriteIndented(pretty, document.RootElement, 0);
            return pretty.ToString();
        }
    }

    /// <summary>
    /// Two-space indented JSON that keeps every non-ASCII character (emoji included, which System.Text.Json's
    /// encoders always escape), numbers exactly as the model wrote them, and duplicate keys in order.
    /// </summary>
    private static void WriteIndented(StringBuilder sb, JsonElement element, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                if (!element.EnumerateObject().Any())
                {
                    sb.Append("{}");
                    return;
                }

                sb.Append('{');
                bool firstProperty = true;
                foreach (var property in element.EnumerateObject())
                {
                    sb.Append(firstProperty ? "\n" : ",\n").Append(' ', (depth + 1) * 2);
                    WriteString(sb, property.Name);
                    sb.Append(": ");
                    WriteIndented(sb, property.Value, depth + 1);
                    firstProperty = false;
                }

                sb.Append('\n').Append(' ', depth * 2).Append('}');
                return;
            case JsonValueKind.Array:
                if (element.GetArrayLength() == 0)
                {
                    sb.Append("[]");
                    return;
                }

                sb.Append('[');
                bool firstItem = true;
                foreach (var item in element.EnumerateArray())
                {
                    sb.Append(firstItem ? "\n" : ",\n").Append(' ', (depth + 1) * 2);
                    WriteIndented(sb, item, depth + 1);
                    firstItem = false;
                }

                sb.Append('\n').Append(' ', depth * 2).Append(']');
                return;
            case JsonValueKind.String:
                WriteString(sb, element.GetString()!);
                return;
            default:
                // Numbers, true, false, null: the source text is already canonical enough and exact.
                sb.Append(element.GetRawText());
                return;
        }
    }

    private static void WriteString(StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case < ' ' or '\u007f' or '\u2028' or '\u2029':
                    // Control characters (and the line separators some terminals obey) stay escaped.
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default: sb.Append(c); break;
            }
        }

        sb.Append('"');
    }

    private static string Excerpt(string content)
    {
        if (content.Length == 0)
        {
            return "(empty)";
        }

        string flat = content.ReplaceLineEndings(" ");
        return flat.Length <= ExcerptLength ? flat : string.Concat(flat.AsSpan(0, ExcerptLength), "…");
    }

    private static string RequireText(string? value, string what) =>
        string.IsNullOrWhiteSpace(value) ? throw new CliException($"{what} must not be empty.") : value;
}

/// <summary>What <c>capa json</c> sends.</summary>
internal sealed record JsonRequest
{
    public required string Model { get; init; }

    public required string System { get; init; }

    public required string Prompt { get; init; }

    public int? MaxTokens { get; init; }

    /// <summary>Null for JSON mode (json_object); else structured output with this schema.</summary>
    public JsonSchemaFile? Schema { get; init; }
}

/// <summary>A JSON Schema read from a file, with the response-format name OpenAI requires.</summary>
internal sealed record JsonSchemaFile(string Name, BinaryData Schema)
{
    /// <summary>Reads and checks the file; the name is the file name (without .json / .schema.json) reduced to OpenAI's ^[a-zA-Z0-9_-]{1,64}$.</summary>
    public static JsonSchemaFile Load(string path)
    {
        string full = Path.GetFullPath(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new CliException($"cannot read the schema file {full}: {e.Message}");
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new CliException($"the schema file {full} must hold a JSON object (a JSON Schema); it holds {root.ValueKind.ToString().ToLowerInvariant()}.");
            }

            // OpenAI's own wrapper ({"name", "schema", "strict"}), as saved from the playground, is accepted too.
            if (root.TryGetProperty("schema", out var inner) && inner.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
                && !root.TryGetProperty("type", out _) && !root.TryGetProperty("properties", out _))
            {
                return new JsonSchemaFile(NameFromText(name.GetString()!), BinaryData.FromString(inner.GetRawText()));
            }
        }
        catch (JsonException e)
        {
            throw new CliException($"the schema file {full} is not valid JSON: {e.Message}");
        }

        return new JsonSchemaFile(NameFromPath(full), BinaryData.FromBytes(bytes));
    }

    internal static string NameFromPath(string path)
    {
        string name = Path.GetFileName(path);
        foreach (string suffix in new[] { ".schema.json", ".json", ".schema" })
        {
            if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                name = name[..^suffix.Length];
                break;
            }
        }

        return NameFromText(name);
    }

    private static string NameFromText(string name)
    {
        var sb = new StringBuilder(Math.Min(name.Length, 64));
        foreach (char c in name)
        {
            if (sb.Length == 64)
            {
                break;
            }

            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        }

        return sb.Length == 0 ? "schema" : sb.ToString();
    }
}
