using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Unicode;
using static Capa.Protocol.JsonRules;

namespace Capa.Protocol.Responses;

/// <summary>
/// Reads and validates a <c>POST /v1/responses</c> body: every byte sequence yields a
/// <see cref="CreateResponseRequest"/> or OpenAI's 400 (413 when too large) naming the parameter; it never throws.
/// </summary>
public static class ResponseRequestReader
{
    /// <summary>Tool types of the API that Capa does not run; each is refused by name, never ignored.</summary>
    public static readonly IReadOnlyList<string> UnsupportedToolTypes =
    [
        "web_search", "web_search_preview", "web_search_preview_2025_03_11", "web_search_2025_08_26", "code_interpreter",
        "computer", "computer_use_preview", "mcp", "image_generation", "local_shell", "shell", "apply_patch", "custom", "tool_search", "namespace",
    ];

    private static readonly string[] KnownParameters =
    [
        "model", "input", "instructions", "previous_response_id", "conversation", "store", "background", "stream", "stream_options",
        "temperature", "top_p", "max_output_tokens", "max_tool_calls", "seed", "metadata", "user", "safety_identifier", "prompt_cache_key",
        "prompt_cache_retention", "parallel_tool_calls", "tools", "tool_choice", "text", "top_logprobs", "include", "truncation", "reasoning",
        "service_tier", "context_management", "prompt",
    ];

    private static readonly string[] ItemTypes = [ResponseItemTypes.Message, ResponseItemTypes.FunctionCall, ResponseItemTypes.FunctionCallOutput, ResponseItemTypes.Reasoning, "item_reference"];
    private static readonly string[] Roles = ["user", "assistant", "system", "developer"];
    private static readonly string[] InputPartTypes = [ResponseContentTypes.InputText, ResponseContentTypes.InputImage, ResponseContentTypes.InputFile];
    private static readonly string[] ImageDetails = ["auto", "low", "high", "original"];
    private static readonly string[] AssistantPartTypes = [ResponseContentTypes.OutputText, ResponseContentTypes.Refusal];
    private static readonly string[] ToolChoiceModes = ["none", "auto", "required"];
    private static readonly string[] FormatTypes = [ResponseFormatTypes.Text, ResponseFormatTypes.JsonObject, ResponseFormatTypes.JsonSchema];
    private static readonly string[] Truncations = ["auto", "disabled"];
    private static readonly string[] Includes =
    [
        "message.output_text.logprobs", "reasoning.encrypted_content", "file_search_call.results", "web_search_call.results",
        "web_search_call.action.sources", "message.input_image.image_url", "computer_call_output.output.image_url", "code_interpreter_call.outputs",
    ];

    /// <summary>Reads and validates a body.</summary>
    public static bool TryRead(ReadOnlySpan<byte> utf8Body, ChatRequestLimits limits, [NotNullWhen(true)] out CreateResponseRequest? request, [NotNullWhen(false)] out ApiError? error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        request = null;
        if (!TryParseObject(utf8Body, limits, out var root, out error))
        {
            return false;
        }

        try
        {
            request = new Parser(new JsonRules(limits)).Parse(root);
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

    /// <summary>
    /// Reads a JSON object body within the limits (size, depth, UTF-8); the shared first step of every Responses and
    /// Conversations body.
    /// </summary>
    public static bool TryParseObject(ReadOnlySpan<byte> utf8Body, ChatRequestLimits limits, out JsonElement root, [NotNullWhen(false)] out ApiError? error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        root = default;
        if (utf8Body.Length > limits.MaxBodyBytes)
        {
            error = ApiError.PayloadTooLarge(limits.MaxBodyBytes);
            return false;
        }

        if (!Utf8.IsValid(utf8Body))
        {
            error = ApiError.InvalidJson("The body is not valid UTF-8.");
            return false;
        }

        var reader = new Utf8JsonReader(utf8Body, new JsonReaderOptions { MaxDepth = limits.MaxDepth });
        try
        {
            root = JsonElement.ParseValue(ref reader);
            if (reader.Read())
            {
                error = ApiError.InvalidJson("Unexpected content after the JSON value.");
                return false;
            }
        }
        catch (JsonException)
        {
            error = ApiError.InvalidJson();
            return false;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            error = ApiError.InvalidRequest($"Invalid request body: expected a JSON object, but got {Describe(root)} instead.", null, "invalid_type");
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Reads one input item (a message, function call, function call output or reasoning item).</summary>
    internal static ResponseItem ParseItem(JsonElement value, string path, JsonRules rules)
    {
        RequireObject(value, path);
        var type = value.TryGetProperty("type"u8, out var typeValue) && typeValue.ValueKind != JsonValueKind.Null
            ? ReadString(typeValue, path + ".type", 64)
            : ResponseItemTypes.Message;
        if (!ItemTypes.Contains(type))
        {
            throw InvalidValue(path + ".type", type, ItemTypes);
        }

        var id = OptionalString(value, "id", path, 128);
        switch (type)
        {
            case ResponseItemTypes.Message:
                return ParseMessage(value, path, id, rules);
            case ResponseItemTypes.FunctionCall:
                return new ResponseItem
                {
                    Id = id,
                    Type = type,
                    Status = OptionalString(value, "status", path, 32) ?? "completed",
                    CallId = ReadString(GetRequired(value, "call_id", path + ".call_id"), path + ".call_id", 256),
                    Name = ReadString(GetRequired(value, "name", path + ".name"), path + ".name", 256),
                    Arguments = rules.ReadString(GetRequired(value, "arguments", path + ".arguments"), path + ".arguments"),
                };
            case ResponseItemTypes.FunctionCallOutput:
                var output = GetRequired(value, "output", path + ".output");
                if (output.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
                {
                    throw TypeError(path + ".output", "one of a string or array", output);
                }

                return new ResponseItem
                {
                    Id = id,
                    Type = type,
                    Status = OptionalString(value, "status", path, 32) ?? "completed",
                    CallId = ReadString(GetRequired(value, "call_id", path + ".call_id"), path + ".call_id", 256),
                    Output = output.Clone(),
                };
            case ResponseItemTypes.Reasoning:
                var summary = GetRequired(value, "summary", path + ".summary");
                RequireArray(summary, path + ".summary");
                return new ResponseItem
                {
                    Id = id,
                    Type = type,
                    Summary = summary.Clone(),
                    EncryptedContent = OptionalString(value, "encrypted_content", path, rules.Limits.MaxStringLength),
                };
            default:
                throw Reject($"Item references ('{path}.type' = 'item_reference') are not supported by this server; send the item itself.", path + ".type", "unsupported_value");
        }
    }

    private static ResponseItem ParseMessage(JsonElement value, string path, string? id, JsonRules rules)
    {
        var role = ReadString(GetRequired(value, "role", path + ".role"), path + ".role", 32);
        if (!Roles.Contains(role))
        {
            throw InvalidValue(path + ".role", role, Roles);
        }

        var content = GetRequired(value, "content", path + ".content");
        var assistant = role == "assistant";
        List<ResponseContentPart> parts;
        if (content.ValueKind == JsonValueKind.String)
        {
            var text = rules.ReadString(content, path + ".content");
            parts = [assistant ? ResponseContentPart.OutputText(text) : ResponseContentPart.InputText(text)];
        }
        else if (content.ValueKind == JsonValueKind.Array)
        {
            if (content.GetArrayLength() > rules.Limits.MaxContentParts)
            {
                throw ArrayTooLong(path + ".content", rules.Limits.MaxContentParts, content.GetArrayLength());
            }

            parts = [];
            var index = 0;
            foreach (var part in content.EnumerateArray())
            {
                parts.Add(ParsePart(part, $"{path}.content[{index++}]", assistant, rules));
            }
        }
        else
        {
            throw TypeError(path + ".content", "one of a string or array", content);
        }

        return new ResponseItem
        {
            Id = id,
            Type = ResponseItemTypes.Message,
            Status = OptionalString(value, "status", path, 32) ?? "completed",
            Content = parts,
            Role = role,
        };
    }

    private static ResponseContentPart ParsePart(JsonElement part, string path, bool assistant, JsonRules rules)
    {
        RequireObject(part, path);
        var type = ReadString(GetRequired(part, "type", path + ".type"), path + ".type", 64);
        var supported = assistant ? AssistantPartTypes : InputPartTypes;
        if (!supported.Contains(type) && !(assistant && type == ResponseContentTypes.InputText))
        {
            throw InvalidValue(path + ".type", type, supported);
        }

        switch (type)
        {
            case ResponseContentTypes.InputText:
                return ResponseContentPart.InputText(rules.ReadString(GetRequired(part, "text", path + ".text"), path + ".text"));
            case ResponseContentTypes.OutputText:
                return ResponseContentPart.OutputText(rules.ReadString(GetRequired(part, "text", path + ".text"), path + ".text"));
            case ResponseContentTypes.Refusal:
                return new ResponseContentPart { Type = type, Refusal = rules.ReadString(GetRequired(part, "refusal", path + ".refusal"), path + ".refusal") };
            case ResponseContentTypes.InputImage:
                return ParseImage(part, path, rules);
            case ResponseContentTypes.InputFile:
                return ParseFile(part, path, rules);
            default:
                throw Reject($"Content of type '{type}' ({path}) is not supported by this server's Responses endpoint yet; send text.", path + ".type", "unsupported_value");
        }
    }

    private static ResponseContentPart ParseImage(JsonElement part, string path, JsonRules rules)
    {
        var url = part.TryGetProperty("image_url"u8, out var u) && u.ValueKind != JsonValueKind.Null ? rules.ReadString(u, path + ".image_url") : null;
        var fileId = OptionalString(part, "file_id", path, 256);
        if ((url is null) == (fileId is null))
        {
            throw Reject($"Exactly one of '{path}.image_url' or '{path}.file_id' must be provided.", url is null ? path + ".image_url" : path + ".file_id", url is null ? "missing_required_parameter" : "invalid_value");
        }

        var detail = OptionalString(part, "detail", path, 64) ?? "auto";
        if (!ImageDetails.Contains(detail))
        {
            throw InvalidValue(path + ".detail", detail, ImageDetails);
        }

        return new ResponseContentPart { Type = ResponseContentTypes.InputImage, ImageUrl = url, FileId = fileId, Detail = detail };
    }

    private static ResponseContentPart ParseFile(JsonElement part, string path, JsonRules rules)
    {
        var fileId = OptionalString(part, "file_id", path, 256);
        var data = part.TryGetProperty("file_data"u8, out var d) && d.ValueKind != JsonValueKind.Null ? rules.ReadString(d, path + ".file_data") : null;
        var url = OptionalString(part, "file_url", path, 8192);
        var filename = OptionalString(part, "filename", path, 1024);
        var given = (fileId is null ? 0 : 1) + (data is null ? 0 : 1) + (url is null ? 0 : 1);
        if (given != 1)
        {
            throw Reject($"Exactly one of '{path}.file_id', '{path}.file_data' or '{path}.file_url' must be provided.", path + (given == 0 ? ".file_id" : ".file_data"), given == 0 ? "missing_required_parameter" : "invalid_value");
        }

        if (data is not null && filename is null)
        {
            throw Reject($"Missing required parameter: '{path}.filename' (needed with 'file_data').", path + ".filename", "missing_required_parameter");
        }

        return new ResponseContentPart { Type = ResponseContentTypes.InputFile, FileId = fileId, FileData = data, FileUrl = url, Filename = filename };
    }

    private static string? OptionalString(JsonElement obj, string name, string path, int maxLength) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? ReadString(value, path + "." + name, maxLength) : null;

    private sealed class Parser(JsonRules rules)
    {
        public CreateResponseRequest Parse(JsonElement root)
        {
            foreach (var property in root.EnumerateObject())
            {
                if (!KnownParameters.Contains(property.Name))
                {
                    throw Reject($"Unknown parameter: '{Shorten(property.Name)}'.", property.Name, "unknown_parameter");
                }
            }

            var request = new CreateResponseRequest { Model = "", Input = [] };
            string? model = null;
            foreach (var property in root.EnumerateObject())
            {
                var name = property.Name;
                var value = property.Value;
                if (value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                request = name switch
                {
                    "model" => request with { Model = model = ReadString(value, name, 256) },
                    "input" => request with { Input = ParseInput(value) },
                    "instructions" => request with { Instructions = value.ValueKind == JsonValueKind.String ? rules.ReadString(value, name) : throw TypeError(name, "a string", value) },
                    "previous_response_id" => request with { PreviousResponseId = ReadString(value, name, 256) },
                    "conversation" => request with { ConversationId = ParseConversation(value) },
                    "store" => request with { Store = ReadBool(value, name) },
                    "background" => request with { Background = ReadBool(value, name) },
                    "stream" => request with { Stream = ReadBool(value, name) },
                    "stream_options" => RequireObject(value, name).ValueKind == JsonValueKind.Object ? request : request,
                    "temperature" => request with { Temperature = ReadNumber(value, name, SamplingRanges.Temperature) },
                    "top_p" => request with { TopP = ReadNumber(value, name, SamplingRanges.TopP) },
                    "max_output_tokens" => request with { MaxOutputTokens = (int)ReadInteger(value, name, 16, int.MaxValue) },
                    "max_tool_calls" => request with { MaxToolCalls = (int)ReadInteger(value, name, 1, int.MaxValue) },
                    "seed" => request with { Seed = ReadInteger(value, name, long.MinValue, long.MaxValue) },
                    "metadata" => request with { Metadata = ChatRequestParser.ParseMetadata(value) },
                    "user" => request with { User = ReadString(value, name, 512) },
                    "safety_identifier" => request with { SafetyIdentifier = ReadString(value, name, 64) },
                    "prompt_cache_key" => request with { PromptCacheKey = ReadString(value, name, 1024) },
                    "prompt_cache_retention" => ReadString(value, name, 64) is not null ? request : request,
                    "parallel_tool_calls" => request with { ParallelToolCalls = ReadBool(value, name) },
                    "tools" => ParseAllTools(request, value),
                    "tool_choice" => ParseToolChoice(request, value),
                    "text" => ParseText(request, value),
                    "top_logprobs" => request with { TopLogprobs = (int)ReadInteger(value, name, 0, 20) },
                    "include" => request with { Include = ParseInclude(value) },
                    "truncation" => request with { Truncation = ReadEnum(value, name, Truncations) },
                    "reasoning" => request with { Reasoning = RequireObject(value, name).Clone() },
                    "service_tier" => request with { ServiceTier = ReadString(value, name, 64) },
                    "context_management" => RequireArray(value, name).ValueKind == JsonValueKind.Array ? request : request,
                    "prompt" => throw Reject("Prompt templates ('prompt') are not supported by this server; send 'instructions' and 'input'.", name, "unsupported_parameter"),
                    _ => request,
                };
            }

            if (model is null)
            {
                throw Missing("model");
            }

            if (request.PreviousResponseId is not null && request.ConversationId is not null)
            {
                throw Reject("Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.", null, "mutually_exclusive_parameters");
            }

            if (request.Background && !request.Store)
            {
                throw Reject("Background responses require 'store' to be true.", "background", "invalid_value");
            }

            if (request.ChatToolChoice is { Mode: ToolChoiceMode.Function } named && request.Tools.All(t => t.Name != named.Name))
            {
                throw Reject($"Tool choice '{named.Name}' not found in 'tools' parameter.", "tool_choice", "invalid_value");
            }

            if (request.ChatToolChoice is { Mode: not ToolChoiceMode.None } && request.Tools.Count == 0 && request.ChatToolChoice.Mode != ToolChoiceMode.Auto)
            {
                throw Reject("Tool choice requires 'tools' to be given.", "tool_choice", "invalid_value");
            }

            return request;
        }

        private List<ResponseItem> ParseInput(JsonElement value)
        {
            if (value.ValueKind == JsonValueKind.String)
            {
                return [new ResponseItem { Type = ResponseItemTypes.Message, Status = "completed", Role = "user", Content = [ResponseContentPart.InputText(rules.ReadString(value, "input"))] }];
            }

            if (value.ValueKind != JsonValueKind.Array)
            {
                throw TypeError("input", "one of a string or array", value);
            }

            if (value.GetArrayLength() > rules.Limits.MaxMessages)
            {
                throw ArrayTooLong("input", rules.Limits.MaxMessages, value.GetArrayLength());
            }

            var items = new List<ResponseItem>();
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                items.Add(ParseItem(item, $"input[{index++}]", rules));
            }

            return items;
        }

        private static string ParseConversation(JsonElement value)
        {
            if (value.ValueKind == JsonValueKind.String)
            {
                return ReadString(value, "conversation", 256);
            }

            if (value.ValueKind == JsonValueKind.Object)
            {
                return ReadString(GetRequired(value, "id", "conversation.id"), "conversation.id", 256);
            }

            throw TypeError("conversation", "one of a string or object", value);
        }

        private CreateResponseRequest ParseAllTools(CreateResponseRequest request, JsonElement value)
        {
            RequireArray(value, "tools");
            ResponseFileSearchTool? fileSearch = null;
            var index = 0;
            foreach (var tool in value.EnumerateArray())
            {
                var path = $"tools[{index++}]";
                if (tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("type"u8, out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "file_search")
                {
                    if (fileSearch is not null)
                    {
                        throw Reject("Only one 'file_search' tool may be given.", path + ".type", "invalid_value");
                    }

                    fileSearch = ParseFileSearch(tool, path);
                }
            }

            return request with { Tools = ParseTools(value), FileSearch = fileSearch };
        }

        private static ResponseFileSearchTool ParseFileSearch(JsonElement tool, string path)
        {
            if (!tool.TryGetProperty("vector_store_ids"u8, out var ids) || ids.ValueKind != JsonValueKind.Array || ids.GetArrayLength() == 0
                || ids.EnumerateArray().Any(i => i.ValueKind != JsonValueKind.String || i.GetString()!.Length == 0))
            {
                throw Reject("Missing required parameter: 'vector_store_ids' must be a non-empty array of vector store ids.", path + ".vector_store_ids", "missing_required_parameter");
            }

            if (ids.GetArrayLength() > 2)
            {
                throw Reject($"Invalid '{path}.vector_store_ids': array too long. Expected an array with maximum length 2, but got an array with length {ids.GetArrayLength()} instead.", path + ".vector_store_ids", "array_above_max_length");
            }

            var max = 10;
            if (tool.TryGetProperty("max_num_results"u8, out var m) && m.ValueKind != JsonValueKind.Null && (!m.TryGetInt32(out max) || max is < 1 or > 50))
            {
                throw Reject($"Invalid '{path}.max_num_results': must be an integer between 1 and 50.", path + ".max_num_results", "integer_out_of_range");
            }

            VectorStores.VectorStoreFilter? filters = null;
            if (tool.TryGetProperty("filters"u8, out var f) && f.ValueKind != JsonValueKind.Null && !VectorStores.VectorStoreRequestReader.TryReadFilter(f, path + ".filters", out filters, out var filterError))
            {
                throw new RequestRejectedException(filterError);
            }

            var ranking = new VectorStores.RankingOptions();
            if (tool.TryGetProperty("ranking_options"u8, out var r) && r.ValueKind != JsonValueKind.Null && !VectorStores.VectorStoreRequestReader.TryReadRanking(r, path + ".ranking_options", out ranking, out var rankingError))
            {
                throw new RequestRejectedException(rankingError);
            }

            return new ResponseFileSearchTool
            {
                VectorStoreIds = [.. ids.EnumerateArray().Select(i => i.GetString()!)],
                MaxNumResults = max,
                Filters = filters,
                RankingOptions = ranking,
                Raw = tool.Clone(),
            };
        }

        private List<ResponseFunctionTool> ParseTools(JsonElement value)
        {
            RequireArray(value, "tools");
            if (value.GetArrayLength() > rules.Limits.MaxTools)
            {
                throw ArrayTooLong("tools", rules.Limits.MaxTools, value.GetArrayLength());
            }

            var tools = new List<ResponseFunctionTool>();
            var index = 0;
            foreach (var tool in value.EnumerateArray())
            {
                var path = $"tools[{index++}]";
                RequireObject(tool, path);
                var type = ReadString(GetRequired(tool, "type", path + ".type"), path + ".type", 64);
                if (type == "file_search")
                {
                    // Read by ParseFileSearch: it runs on the server, the model never sees it as a function.
                    continue;
                }

                if (type != "function")
                {
                    throw UnsupportedToolTypes.Contains(type)
                        ? Reject($"Tool type '{type}' is not supported by this server. Supported tool types: 'function' and 'file_search'.", path + ".type", "unsupported_tool_type")
                        : InvalidValue(path + ".type", type, ["function", "file_search", .. UnsupportedToolTypes]);
                }

                var name = ReadString(GetRequired(tool, "name", path + ".name"), path + ".name", 64);
                if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
                {
                    throw Reject($"Invalid '{path}.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", path + ".name", "invalid_value");
                }

                if (tools.Any(t => t.Name == name))
                {
                    throw Reject($"Duplicate tool name '{name}' in 'tools'.", path + ".name", "invalid_value");
                }

                JsonElement? parameters = tool.TryGetProperty("parameters"u8, out var p) && p.ValueKind != JsonValueKind.Null ? RequireObject(p, path + ".parameters").Clone() : null;
                bool? strict = tool.TryGetProperty("strict"u8, out var s) && s.ValueKind != JsonValueKind.Null ? ReadBool(s, path + ".strict") : null;
                var description = OptionalString(tool, "description", path, rules.Limits.MaxStringLength);
                tools.Add(new ResponseFunctionTool { Name = name, Description = description, Parameters = parameters, Strict = strict, Raw = tool.Clone() });
            }

            return tools;
        }

        private static CreateResponseRequest ParseToolChoice(CreateResponseRequest request, JsonElement value)
        {
            if (value.ValueKind == JsonValueKind.String)
            {
                var mode = ReadEnum(value, "tool_choice", ToolChoiceModes);
                var choice = mode switch { "none" => ToolChoice.None, "required" => ToolChoice.Required, _ => ToolChoice.Auto };
                return request with { ToolChoice = value.Clone(), ChatToolChoice = choice };
            }

            RequireObject(value, "tool_choice");
            var type = ReadString(GetRequired(value, "type", "tool_choice.type"), "tool_choice.type", 64);
            switch (type)
            {
                case "function":
                    var name = ReadString(GetRequired(value, "name", "tool_choice.name"), "tool_choice.name", 64);
                    return request with { ToolChoice = value.Clone(), ChatToolChoice = ToolChoice.ForFunction(name) };
                case "allowed_tools":
                    var mode = ReadEnum(GetRequired(value, "mode", "tool_choice.mode"), "tool_choice.mode", ["auto", "required"]);
                    var tools = RequireArray(GetRequired(value, "tools", "tool_choice.tools"), "tool_choice.tools");

                    // Chat's allowed_tools names tools in chat form: {"type":"function","function":{"name":...}}.
                    var chatTools = new List<object>();
                    var index = 0;
                    foreach (var tool in tools.EnumerateArray())
                    {
                        var path = $"tool_choice.tools[{index++}]";
                        RequireObject(tool, path);
                        var toolType = ReadString(GetRequired(tool, "type", path + ".type"), path + ".type", 64);
                        if (toolType != "function")
                        {
                            throw InvalidValue(path + ".type", toolType, ["function"]);
                        }

                        chatTools.Add(ReadString(GetRequired(tool, "name", path + ".name"), path + ".name", 64));
                    }

                    var allowed = JsonElement.Parse(
                        "{\"mode\":" + JsonSerializer.Serialize(mode, ResponsesJsonContext.Default.String) + ",\"tools\":["
                        + string.Join(',', chatTools.Select(n => "{\"type\":\"function\",\"function\":{\"name\":" + JsonSerializer.Serialize((string)n, ResponsesJsonContext.Default.String) + "}}"))
                        + "]}");
                    return request with { ToolChoice = value.Clone(), ChatToolChoice = new ToolChoice { Mode = ToolChoiceMode.AllowedTools, AllowedTools = allowed } };
                default:
                    throw UnsupportedToolTypes.Contains(type)
                        ? Reject($"Tool type '{type}' is not supported by this server. Supported tool types: 'function'.", "tool_choice.type", "unsupported_tool_type")
                        : InvalidValue("tool_choice.type", type, ["function", "allowed_tools"]);
            }
        }

        private CreateResponseRequest ParseText(CreateResponseRequest request, JsonElement value)
        {
            RequireObject(value, "text");
            if (!value.TryGetProperty("format"u8, out var format) || format.ValueKind == JsonValueKind.Null)
            {
                return request;
            }

            RequireObject(format, "text.format");
            var type = ReadEnum(GetRequired(format, "type", "text.format.type"), "text.format.type", FormatTypes);
            ResponseFormat? chatFormat = type switch
            {
                ResponseFormatTypes.Text => null,
                ResponseFormatTypes.JsonObject => new ResponseFormat { Type = type },
                _ => new ResponseFormat
                {
                    Type = type,
                    JsonSchema = new ResponseJsonSchema
                    {
                        Name = ReadString(GetRequired(format, "name", "text.format.name"), "text.format.name", 64),
                        Description = OptionalString(format, "description", "text.format", rules.Limits.MaxStringLength),
                        Schema = RequireObject(GetRequired(format, "schema", "text.format.schema"), "text.format.schema").Clone(),
                        Strict = format.TryGetProperty("strict"u8, out var strict) && strict.ValueKind != JsonValueKind.Null ? ReadBool(strict, "text.format.strict") : null,
                    },
                },
            };
            return request with { Text = value.Clone(), Format = chatFormat };
        }

        private static List<string> ParseInclude(JsonElement value)
        {
            RequireArray(value, "include");
            var list = new List<string>();
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                list.Add(ReadEnum(item, $"include[{index++}]", Includes));
            }

            return list;
        }

        private static string ReadEnum(JsonElement value, string path, IReadOnlyList<string> supported)
        {
            var text = ReadString(value, path, 256);
            return supported.Contains(text) ? text : throw InvalidValue(path, text, supported);
        }
    }
}
