using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.RegularExpressions;
using Capa.Protocol.Responses;
using static Capa.Protocol.JsonRules;

namespace Capa.Protocol.Assistants;

/// <summary>
/// Reads and validates the bodies of the Assistants API (v2): every byte sequence yields a request or OpenAI's 400 naming
/// the parameter; it never throws. Tools Capa cannot run (<c>code_interpreter</c>, also as an attachment's tool) and
/// inputs it cannot read (image parts) are refused by name, never ignored.
/// </summary>
public static partial class AssistantRequestReader
{
    private static readonly string[] AssistantParameters =
        ["model", "name", "description", "instructions", "tools", "tool_resources", "metadata", "temperature", "top_p", "response_format", "reasoning_effort"];

    private static readonly string[] ThreadParameters = ["messages", "tool_resources", "metadata"];
    private static readonly string[] MessageParameters = ["role", "content", "attachments", "metadata"];

    private static readonly string[] RunParameters =
    [
        "assistant_id", "model", "instructions", "additional_instructions", "additional_messages", "tools", "metadata", "temperature", "top_p",
        "stream", "max_prompt_tokens", "max_completion_tokens", "truncation_strategy", "tool_choice", "parallel_tool_calls", "response_format",
        "reasoning_effort",
    ];

    private static readonly string[] ThreadAndRunParameters =
    [
        "assistant_id", "thread", "model", "instructions", "tools", "tool_resources", "metadata", "temperature", "top_p", "stream",
        "max_prompt_tokens", "max_completion_tokens", "truncation_strategy", "tool_choice", "parallel_tool_calls", "response_format",
    ];

    private static readonly string[] ToolTypes = ["code_interpreter", "file_search", "function"];
    private static readonly string[] AttachmentToolTypes = ["code_interpreter", "file_search"];

    /// <summary>The most files one message may attach (a bound of this server; each is looked up and ingested).</summary>
    public const int MaxAttachments = 100;
    private static readonly string[] Roles = ["user", "assistant"];
    private static readonly string[] ToolChoiceModes = ["none", "auto", "required"];
    private static readonly string[] FormatTypes = ["text", "json_object", "json_schema"];
    private static readonly string[] TruncationTypes = ["auto", "last_messages"];
    private static readonly string[] ReasoningEfforts = ["none", "minimal", "low", "medium", "high", "xhigh"];

    /// <summary>The message of the refusal of <c>code_interpreter</c>.</summary>
    public const string CodeInterpreterRefusal =
        "The 'code_interpreter' tool is not supported by this server: Capa does not execute model-written code. Use 'function' tools and run the code yourself, or 'file_search'.";

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex FunctionName();

    /// <summary>Reads an assistant's create (<paramref name="modify"/> false: <c>model</c> required) or modify body.</summary>
    public static bool TryReadAssistant(ReadOnlySpan<byte> body, ChatRequestLimits limits, bool modify, [NotNullWhen(true)] out AssistantRequest? request, [NotNullWhen(false)] out ApiError? error) =>
        TryRead(body, limits, root => ParseAssistant(root, modify, new JsonRules(limits)), out request, out error);

    /// <summary>Reads a thread's create (<paramref name="modify"/> false) or modify body (an empty body creates an empty thread).</summary>
    public static bool TryReadThread(ReadOnlySpan<byte> body, ChatRequestLimits limits, bool modify, [NotNullWhen(true)] out ThreadRequest? request, [NotNullWhen(false)] out ApiError? error)
    {
        if (body.IsEmpty && !modify)
        {
            request = new ThreadRequest { Present = new HashSet<string>() };
            error = null;
            return true;
        }

        return TryRead(body, limits, root => ParseThread(root, "", modify, new JsonRules(limits)), out request, out error);
    }

    /// <summary>Reads a message's create body.</summary>
    public static bool TryReadMessage(ReadOnlySpan<byte> body, ChatRequestLimits limits, [NotNullWhen(true)] out MessageRequest? request, [NotNullWhen(false)] out ApiError? error) =>
        TryRead(body, limits, root => ParseMessage(root, "", new JsonRules(limits)), out request, out error);

    /// <summary>Reads a modify body that may only change <c>metadata</c> (messages, runs).</summary>
    public static bool TryReadMetadata(ReadOnlySpan<byte> body, ChatRequestLimits limits, [NotNullWhen(true)] out IReadOnlyDictionary<string, string>? metadata, [NotNullWhen(false)] out ApiError? error) =>
        TryRead<IReadOnlyDictionary<string, string>>(body, limits, root =>
        {
            CheckKnown(root, ["metadata"], "");
            return root.TryGetProperty("metadata"u8, out var value) && value.ValueKind != JsonValueKind.Null
                ? ChatRequestParser.ParseMetadata(value)
                : AssistantDefaults.EmptyMetadata;
        }, out metadata, out error);

    /// <summary>Reads a run's create body (<paramref name="withThread"/>: the create-thread-and-run body).</summary>
    public static bool TryReadRun(ReadOnlySpan<byte> body, ChatRequestLimits limits, bool withThread, [NotNullWhen(true)] out RunRequest? request, [NotNullWhen(false)] out ApiError? error) =>
        TryRead(body, limits, root => ParseRun(root, withThread, new JsonRules(limits)), out request, out error);

    /// <summary>Reads a <c>submit_tool_outputs</c> body.</summary>
    public static bool TryReadToolOutputs(ReadOnlySpan<byte> body, ChatRequestLimits limits, [NotNullWhen(true)] out SubmitToolOutputsRequest? request, [NotNullWhen(false)] out ApiError? error) =>
        TryRead(body, limits, root =>
        {
            var rules = new JsonRules(limits);
            CheckKnown(root, ["tool_outputs", "stream"], "");
            var outputs = new List<ToolOutput>();
            var list = RequireArray(GetRequired(root, "tool_outputs", "tool_outputs"), "tool_outputs");
            var index = 0;
            foreach (var item in list.EnumerateArray())
            {
                var path = $"tool_outputs[{index++}]";
                RequireObject(item, path);
                var id = item.TryGetProperty("tool_call_id"u8, out var idValue) && idValue.ValueKind != JsonValueKind.Null
                    ? ReadString(idValue, path + ".tool_call_id", 256)
                    : throw Missing(path + ".tool_call_id");
                var output = item.TryGetProperty("output"u8, out var outputValue) && outputValue.ValueKind != JsonValueKind.Null
                    ? rules.ReadString(outputValue, path + ".output")
                    : string.Empty;
                outputs.Add(new ToolOutput(id, output));
            }

            var stream = root.TryGetProperty("stream"u8, out var streamValue) && streamValue.ValueKind != JsonValueKind.Null && ReadBool(streamValue, "stream");
            return new SubmitToolOutputsRequest { ToolOutputs = outputs, Stream = stream };
        }, out request, out error);

    private static bool TryRead<T>(ReadOnlySpan<byte> body, ChatRequestLimits limits, Func<JsonElement, T> parse, [NotNullWhen(true)] out T? request, [NotNullWhen(false)] out ApiError? error)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(limits);
        request = null;
        if (!ResponseRequestReader.TryParseObject(body, limits, out var root, out error))
        {
            return false;
        }

        try
        {
            request = parse(root);
            return true;
        }
        catch (RequestRejectedException rejected)
        {
            error = rejected.Error;
            return false;
        }
        catch (InvalidOperationException)
        {
            error = ApiError.InvalidJson("A string contains an escape sequence that is not valid Unicode.");
            return false;
        }
    }

    private static void CheckKnown(JsonElement root, IReadOnlyList<string> known, string prefix)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                throw Reject($"Unknown parameter: '{prefix}{Shorten(property.Name)}'.", prefix + property.Name, "unknown_parameter");
            }
        }
    }

    private static HashSet<string> PresentNames(JsonElement root) => root.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);

    private static AssistantRequest ParseAssistant(JsonElement root, bool modify, JsonRules rules)
    {
        CheckKnown(root, AssistantParameters, "");
        var request = new AssistantRequest { Present = PresentNames(root) };
        foreach (var property in root.EnumerateObject())
        {
            var (name, value) = (property.Name, property.Value);
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            request = name switch
            {
                "model" => request with { Model = ReadString(value, name, 256) },
                "name" => request with { Name = ReadString(value, name, 256) },
                "description" => request with { Description = ReadString(value, name, 512) },
                "instructions" => request with { Instructions = ReadString(value, name, 256_000) },
                "tools" => request with { Tools = ParseTools(value, "tools", 128) },
                "tool_resources" => request with { ToolResources = ParseToolResources(value, "tool_resources") },
                "metadata" => request with { Metadata = ChatRequestParser.ParseMetadata(value) },
                "temperature" => request with { Temperature = ReadNumber(value, name, SamplingRanges.Temperature) },
                "top_p" => request with { TopP = ReadNumber(value, name, SamplingRanges.TopP) },
                "response_format" => request with { ResponseFormat = ParseResponseFormat(value) },
                "reasoning_effort" => ReadEnum(value, name, ReasoningEfforts) is not null ? request : request,
                _ => request,
            };
        }

        if (!modify && request.Model is null)
        {
            throw Missing("model");
        }

        if (modify && request.Present.Contains("model") && request.Model is null)
        {
            throw TypeError("model", "a string", root.GetProperty("model"u8));
        }

        _ = rules;
        return request;
    }

    private static ThreadRequest ParseThread(JsonElement root, string prefix, bool modify, JsonRules rules)
    {
        RequireObject(root, prefix.TrimEnd('.').Length == 0 ? "body" : prefix.TrimEnd('.'));
        CheckKnown(root, modify ? ["tool_resources", "metadata"] : ThreadParameters, prefix);
        var request = new ThreadRequest { Present = PresentNames(root) };
        foreach (var property in root.EnumerateObject())
        {
            var (name, value) = (property.Name, property.Value);
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            request = name switch
            {
                "messages" => request with { Messages = ParseMessages(value, prefix + name, rules) },
                "tool_resources" => request with { ToolResources = ParseToolResources(value, prefix + name) },
                "metadata" => request with { Metadata = ChatRequestParser.ParseMetadata(value) },
                _ => request,
            };
        }

        return request;
    }

    private static List<MessageRequest> ParseMessages(JsonElement value, string path, JsonRules rules)
    {
        RequireArray(value, path);
        var messages = new List<MessageRequest>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            messages.Add(ParseMessage(item, $"{path}[{index++}].", rules));
        }

        return messages;
    }

    private static MessageRequest ParseMessage(JsonElement root, string prefix, JsonRules rules)
    {
        RequireObject(root, prefix.Length == 0 ? "body" : prefix.TrimEnd('.'));
        CheckKnown(root, MessageParameters, prefix);
        var roleValue = root.TryGetProperty("role"u8, out var r) && r.ValueKind != JsonValueKind.Null ? r : throw Missing(prefix + "role");
        var role = ReadEnum(roleValue, prefix + "role", Roles);
        var contentValue = root.TryGetProperty("content"u8, out var c) && c.ValueKind != JsonValueKind.Null ? c : throw Missing(prefix + "content");
        var content = ParseContent(contentValue, prefix + "content", rules);
        var attachments = root.TryGetProperty("attachments"u8, out var a) && a.ValueKind != JsonValueKind.Null
            ? ParseAttachments(a, prefix + "attachments")
            : [];

        var metadata = root.TryGetProperty("metadata"u8, out var m) && m.ValueKind != JsonValueKind.Null ? ChatRequestParser.ParseMetadata(m) : AssistantDefaults.EmptyMetadata;
        return new MessageRequest { Role = role, Content = content, Attachments = attachments, Metadata = metadata };
    }

    /// <summary>
    /// Reads <c>attachments</c>: <c>[{"file_id", "tools":[{"type":"file_search"}]}]</c>, stored in that normal form.
    /// <c>code_interpreter</c> is refused as everywhere else; whether the files exist is the server's check.
    /// </summary>
    private static List<JsonElement> ParseAttachments(JsonElement value, string path)
    {
        RequireArray(value, path);
        if (value.GetArrayLength() > MaxAttachments)
        {
            throw ArrayTooLong(path, MaxAttachments, value.GetArrayLength());
        }

        var attachments = new List<JsonElement>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var itemPath = $"{path}[{index++}]";
            RequireObject(item, itemPath);
            CheckKnown(item, ["file_id", "tools"], itemPath + ".");
            var fileId = item.TryGetProperty("file_id"u8, out var f) && f.ValueKind != JsonValueKind.Null
                ? ReadString(f, itemPath + ".file_id", 256)
                : throw Missing(itemPath + ".file_id");
            if (fileId.Length == 0)
            {
                throw Reject($"Invalid '{itemPath}.file_id': empty string. Expected a file id.", itemPath + ".file_id", "empty_string");
            }

            var tools = item.TryGetProperty("tools"u8, out var t) && t.ValueKind != JsonValueKind.Null
                ? RequireArray(t, itemPath + ".tools")
                : throw Missing(itemPath + ".tools");
            var toolIndex = 0;
            var fileSearch = false;
            foreach (var tool in tools.EnumerateArray())
            {
                var toolPath = $"{itemPath}.tools[{toolIndex++}]";
                RequireObject(tool, toolPath);
                CheckKnown(tool, ["type"], toolPath + ".");
                var type = ReadEnum(GetRequired(tool, "type", toolPath + ".type"), toolPath + ".type", AttachmentToolTypes);
                if (type == "code_interpreter")
                {
                    throw Reject(CodeInterpreterRefusal, toolPath + ".type", "unsupported_value");
                }

                fileSearch = true;
            }

            attachments.Add(Attachment(fileId, fileSearch));
        }

        return attachments;
    }

    /// <summary>A stored attachment: <c>{"file_id":...,"tools":[{"type":"file_search"}]}</c> (tools empty when <paramref name="fileSearch"/> is false).</summary>
    public static JsonElement Attachment(string fileId, bool fileSearch)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = CapaJsonContext.WireEncoder }))
        {
            w.WriteStartObject();
            w.WriteString("file_id"u8, fileId);
            w.WriteStartArray("tools"u8);
            if (fileSearch)
            {
                w.WriteStartObject();
                w.WriteString("type"u8, "file_search");
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return JsonElement.Parse(buffer.WrittenSpan);
    }

    /// <summary>Whether a stored attachment adds its file to <c>file_search</c>.</summary>
    public static bool IsForFileSearch(JsonElement attachment) =>
        attachment.TryGetProperty("tools"u8, out var tools) && tools.ValueKind == JsonValueKind.Array
        && tools.EnumerateArray().Any(t => t.TryGetProperty("type"u8, out var type) && type.ValueEquals("file_search"u8));

    private static List<JsonElement> ParseContent(JsonElement value, string path, JsonRules rules)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return [TextPart(rules.ReadString(value, path))];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw TypeError(path, "a string or an array", value);
        }

        if (value.GetArrayLength() == 0)
        {
            throw EmptyArray(path);
        }

        var parts = new List<JsonElement>();
        var index = 0;
        foreach (var part in value.EnumerateArray())
        {
            var partPath = $"{path}[{index++}]";
            RequireObject(part, partPath);
            var type = ReadString(GetRequired(part, "type", partPath + ".type"), partPath + ".type", 64);
            switch (type)
            {
                case "text":
                    parts.Add(TextPart(rules.ReadString(GetRequired(part, "text", partPath + ".text"), partPath + ".text")));
                    break;
                case "image_file" or "image_url":
                    throw Reject($"Image content parts ('{type}') are not supported by this server's assistants: send text parts.", partPath + ".type", "unsupported_value");
                default:
                    throw InvalidValue(partPath + ".type", type, ["text", "image_file", "image_url"]);
            }
        }

        return parts;
    }

    /// <summary>A stored text part: <c>{"type":"text","text":{"value":...,"annotations":[...]}}</c>.</summary>
    public static JsonElement TextPart(string text, IReadOnlyList<JsonElement>? annotations = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = CapaJsonContext.WireEncoder }))
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "text");
            w.WriteStartObject("text"u8);
            w.WriteString("value"u8, text);
            w.WriteStartArray("annotations"u8);
            foreach (var annotation in annotations ?? [])
            {
                annotation.WriteTo(w);
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return JsonElement.Parse(buffer.WrittenSpan);
    }

    private static RunRequest ParseRun(JsonElement root, bool withThread, JsonRules rules)
    {
        CheckKnown(root, withThread ? ThreadAndRunParameters : RunParameters, "");
        var assistantValue = root.TryGetProperty("assistant_id"u8, out var a) && a.ValueKind != JsonValueKind.Null ? a : throw Missing("assistant_id");
        var request = new RunRequest { Present = PresentNames(root), AssistantId = ReadString(assistantValue, "assistant_id", 256) };
        foreach (var property in root.EnumerateObject())
        {
            var (name, value) = (property.Name, property.Value);
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            request = name switch
            {
                "model" => request with { Model = ReadString(value, name, 256) },
                "instructions" => request with { Instructions = ReadString(value, name, 256_000) },
                "additional_instructions" => request with { AdditionalInstructions = ReadString(value, name, 256_000) },
                "additional_messages" => request with { AdditionalMessages = ParseMessages(value, name, rules) },
                "tools" => request with { Tools = ParseTools(value, name, 20) },
                "metadata" => request with { Metadata = ChatRequestParser.ParseMetadata(value) },
                "temperature" => request with { Temperature = ReadNumber(value, name, SamplingRanges.Temperature) },
                "top_p" => request with { TopP = ReadNumber(value, name, SamplingRanges.TopP) },
                "stream" => request with { Stream = ReadBool(value, name) },
                "max_prompt_tokens" => request with { MaxPromptTokens = (int)ReadInteger(value, name, 256, int.MaxValue) },
                "max_completion_tokens" => request with { MaxCompletionTokens = (int)ReadInteger(value, name, 256, int.MaxValue) },
                "truncation_strategy" => request with { TruncationStrategy = ParseTruncation(value) },
                "tool_choice" => request with { ToolChoice = ParseToolChoice(value) },
                "parallel_tool_calls" => request with { ParallelToolCalls = ReadBool(value, name) },
                "response_format" => request with { ResponseFormat = ParseResponseFormat(value) },
                "thread" => request with { Thread = ParseThread(value, "thread.", modify: false, rules) },
                "tool_resources" => request with { ToolResources = ParseToolResources(value, name) },
                "reasoning_effort" => ReadEnum(value, name, ReasoningEfforts) is not null ? request : request,
                _ => request,
            };
        }

        return request;
    }

    private static List<JsonElement> ParseTools(JsonElement value, string path, int max)
    {
        RequireArray(value, path);
        if (value.GetArrayLength() > max)
        {
            throw ArrayTooLong(path, max, value.GetArrayLength());
        }

        var tools = new List<JsonElement>();
        var index = 0;
        foreach (var tool in value.EnumerateArray())
        {
            var toolPath = $"{path}[{index++}]";
            RequireObject(tool, toolPath);
            var type = ReadEnum(GetRequired(tool, "type", toolPath + ".type"), toolPath + ".type", ToolTypes);
            switch (type)
            {
                case "code_interpreter":
                    throw Reject(CodeInterpreterRefusal, toolPath + ".type", "unsupported_value");
                case "file_search":
                    CheckKnown(tool, ["type", "file_search"], toolPath + ".");
                    if (tool.TryGetProperty("file_search"u8, out var settings) && settings.ValueKind != JsonValueKind.Null)
                    {
                        RequireObject(settings, toolPath + ".file_search");
                        CheckKnown(settings, ["max_num_results", "ranking_options"], toolPath + ".file_search.");
                        if (settings.TryGetProperty("max_num_results"u8, out var max2) && max2.ValueKind != JsonValueKind.Null)
                        {
                            ReadInteger(max2, toolPath + ".file_search.max_num_results", 1, 50);
                        }

                        if (settings.TryGetProperty("ranking_options"u8, out var ranking) && ranking.ValueKind != JsonValueKind.Null)
                        {
                            RequireObject(ranking, toolPath + ".file_search.ranking_options");
                            if (ranking.TryGetProperty("score_threshold"u8, out var threshold))
                            {
                                ReadNumber(threshold, toolPath + ".file_search.ranking_options.score_threshold", 0, 1);
                            }
                        }
                    }

                    break;
                default:
                    CheckKnown(tool, ["type", "function"], toolPath + ".");
                    var function = RequireObject(GetRequired(tool, "function", toolPath + ".function"), toolPath + ".function");
                    CheckKnown(function, ["name", "description", "parameters", "strict"], toolPath + ".function.");
                    var name = ReadString(GetRequired(function, "name", toolPath + ".function.name"), toolPath + ".function.name", 64);
                    if (!FunctionName().IsMatch(name))
                    {
                        throw Reject($"Invalid '{toolPath}.function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", toolPath + ".function.name", "invalid_value");
                    }

                    if (function.TryGetProperty("description"u8, out var description) && description.ValueKind != JsonValueKind.Null)
                    {
                        ReadString(description, toolPath + ".function.description", 1_048_576);
                    }

                    if (function.TryGetProperty("parameters"u8, out var parameters) && parameters.ValueKind != JsonValueKind.Null)
                    {
                        RequireObject(parameters, toolPath + ".function.parameters");
                    }

                    if (function.TryGetProperty("strict"u8, out var strict) && strict.ValueKind != JsonValueKind.Null)
                    {
                        ReadBool(strict, toolPath + ".function.strict");
                    }

                    if (tools.Any(t => t.GetProperty("type"u8).ValueEquals("function"u8) && t.GetProperty("function"u8).GetProperty("name"u8).ValueEquals(name)))
                    {
                        throw Reject($"Invalid '{toolPath}.function.name': duplicate function name '{name}'.", toolPath + ".function.name", "invalid_value");
                    }

                    break;
            }

            tools.Add(tool.Clone());
        }

        return tools;
    }

    private static JsonElement ParseToolResources(JsonElement value, string path)
    {
        RequireObject(value, path);
        CheckKnown(value, ["code_interpreter", "file_search"], path + ".");
        if (value.TryGetProperty("code_interpreter"u8, out var code) && code.ValueKind != JsonValueKind.Null)
        {
            throw Reject(CodeInterpreterRefusal, path + ".code_interpreter", "unsupported_value");
        }

        if (value.TryGetProperty("file_search"u8, out var search) && search.ValueKind != JsonValueKind.Null)
        {
            RequireObject(search, path + ".file_search");
            CheckKnown(search, ["vector_store_ids", "vector_stores"], path + ".file_search.");
            if (search.TryGetProperty("vector_store_ids"u8, out var ids) && ids.ValueKind != JsonValueKind.Null)
            {
                RequireArray(ids, path + ".file_search.vector_store_ids");
                if (ids.GetArrayLength() > 1)
                {
                    throw ArrayTooLong(path + ".file_search.vector_store_ids", 1, ids.GetArrayLength());
                }

                var index = 0;
                foreach (var id in ids.EnumerateArray())
                {
                    ReadString(id, $"{path}.file_search.vector_store_ids[{index++}]", 256);
                }
            }

            if (search.TryGetProperty("vector_stores"u8, out var stores) && stores.ValueKind != JsonValueKind.Null)
            {
                throw Reject("Creating vector stores inside 'tool_resources' is not supported by this server: create the vector store with POST /v1/vector_stores and pass its id in 'vector_store_ids'.", path + ".file_search.vector_stores", "unsupported_parameter");
            }
        }

        return value.Clone();
    }

    private static JsonElement ParseResponseFormat(JsonElement value)
    {
        const string Path = "response_format";
        if (value.ValueKind == JsonValueKind.String)
        {
            ReadEnum(value, Path, ["auto"]);
            return value.Clone();
        }

        RequireObject(value, Path);
        var type = ReadEnum(GetRequired(value, "type", Path + ".type"), Path + ".type", FormatTypes);
        if (type == "json_schema")
        {
            CheckKnown(value, ["type", "json_schema"], Path + ".");
            var schema = RequireObject(GetRequired(value, "json_schema", Path + ".json_schema"), Path + ".json_schema");
            CheckKnown(schema, ["name", "description", "schema", "strict"], Path + ".json_schema.");
            var name = ReadString(GetRequired(schema, "name", Path + ".json_schema.name"), Path + ".json_schema.name", 64);
            if (!FunctionName().IsMatch(name))
            {
                throw Reject($"Invalid '{Path}.json_schema.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", Path + ".json_schema.name", "invalid_value");
            }

            if (schema.TryGetProperty("schema"u8, out var body) && body.ValueKind != JsonValueKind.Null)
            {
                RequireObject(body, Path + ".json_schema.schema");
            }

            if (schema.TryGetProperty("strict"u8, out var strict) && strict.ValueKind != JsonValueKind.Null)
            {
                ReadBool(strict, Path + ".json_schema.strict");
            }
        }
        else
        {
            CheckKnown(value, ["type"], Path + ".");
        }

        return value.Clone();
    }

    private static JsonElement ParseToolChoice(JsonElement value)
    {
        const string Path = "tool_choice";
        if (value.ValueKind == JsonValueKind.String)
        {
            ReadEnum(value, Path, ToolChoiceModes);
            return value.Clone();
        }

        RequireObject(value, Path);
        var type = ReadEnum(GetRequired(value, "type", Path + ".type"), Path + ".type", ToolTypes);
        if (type == "code_interpreter")
        {
            throw Reject(CodeInterpreterRefusal, Path + ".type", "unsupported_value");
        }

        if (type == "function")
        {
            var function = RequireObject(GetRequired(value, "function", Path + ".function"), Path + ".function");
            ReadString(GetRequired(function, "name", Path + ".function.name"), Path + ".function.name", 64);
        }

        return value.Clone();
    }

    private static JsonElement ParseTruncation(JsonElement value)
    {
        const string Path = "truncation_strategy";
        RequireObject(value, Path);
        CheckKnown(value, ["type", "last_messages"], Path + ".");
        var type = ReadEnum(GetRequired(value, "type", Path + ".type"), Path + ".type", TruncationTypes);
        int? last = null;
        if (value.TryGetProperty("last_messages"u8, out var n) && n.ValueKind != JsonValueKind.Null)
        {
            last = (int)ReadInteger(n, Path + ".last_messages", 1, int.MaxValue);
        }

        if (type == "last_messages" && last is null)
        {
            throw Missing(Path + ".last_messages");
        }

        return JsonElement.Parse(last is { } count ? $$"""{"type":"{{type}}","last_messages":{{count}}}""" : $$"""{"type":"{{type}}","last_messages":null}""");
    }

    private static string ReadEnum(JsonElement value, string path, IReadOnlyList<string> supported)
    {
        var text = ReadString(value, path, 256);
        return supported.Contains(text) ? text : throw InvalidValue(path, text, supported);
    }
}
