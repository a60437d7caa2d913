using System.Globalization;
using System.Text.Json;
using static Capa.Protocol.JsonRules;

namespace Capa.Protocol;

/// <summary>Turns a parsed body into a <see cref="ChatCompletionRequest"/>, rejecting at the first rule broken.</summary>
internal sealed class ChatRequestParser(ChatRequestLimits limits)
{
    private static readonly string[] Roles = ["system", "assistant", "user", "function", "tool", "developer"];
    private static readonly string[] ToolChoiceModes = ["none", "auto", "required"];
    private static readonly string[] ToolChoiceTypes = ["function", "custom", "allowed_tools"];
    private static readonly string[] ToolTypes = ["function", "custom"];
    private static readonly string[] ToolCallTypes = ["function", "custom"];
    private static readonly string[] ResponseFormats = [ResponseFormatTypes.JsonObject, ResponseFormatTypes.JsonSchema, ResponseFormatTypes.Text];
    private static readonly string[] ImageDetails = ["auto", "low", "high"];
    private static readonly string[] AudioFormats = ["wav", "mp3"];
    private static readonly string[] UserPartTypes = ["text", "image_url", "input_audio", "file"];
    private static readonly string[] TextPartTypes = ["text"];
    private static readonly string[] AssistantPartTypes = ["text", "refusal"];
    private static readonly string[] ModalityValues = ["text", "audio"];
    private static readonly string[] AllowedToolsModes = ["auto", "required"];

    private readonly JsonRules rules = new(limits);

    public ChatCompletionRequest Parse(JsonElement root)
    {
        string? model = null;
        List<ChatMessage>? messages = null;
        double? temperature = null, topP = null, presencePenalty = null, frequencyPenalty = null;
        int? n = null, maxTokens = null, maxCompletionTokens = null, topLogprobs = null;
        bool? stream = null, logprobs = null, parallelToolCalls = null, store = null;
        long? seed = null;
        ChatStreamOptions? streamOptions = null;
        IReadOnlyList<string>? stop = null, modalities = null;
        IReadOnlyDictionary<int, double>? logitBias = null;
        IReadOnlyDictionary<string, string>? metadata = null;
        ResponseFormat? responseFormat = null;
        List<ChatTool>? tools = null;
        ToolChoice? toolChoice = null;
        string? user = null, serviceTier = null, reasoningEffort = null, verbosity = null, promptCacheKey = null, safetyIdentifier = null;
        JsonElement? prediction = null, audio = null, functionCall = null, functions = null, webSearchOptions = null;

        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            var name = property.Name;
            if (value.ValueKind == JsonValueKind.Null && name is not ("model" or "messages"))
            {
                // Every optional parameter is nullable in the spec: null means "not given".
                continue;
            }

            switch (name)
            {
                case "model":
                    model = rules.ReadString(value, name);
                    break;
                case "messages":
                    messages = ParseMessages(value);
                    break;
                case "temperature":
                    temperature = ReadNumber(value, name, SamplingRanges.Temperature);
                    break;
                case "top_p":
                    topP = ReadNumber(value, name, SamplingRanges.TopP);
                    break;
                case "n":
                    n = (int)ReadInteger(value, name, 1, 128);
                    break;
                case "stream":
                    stream = ReadBool(value, name);
                    break;
                case "stream_options":
                    streamOptions = ParseStreamOptions(value);
                    break;
                case "stop":
                    stop = ParseStop(value);
                    break;
                case "max_tokens":
                    maxTokens = (int)ReadInteger(value, name, 1, int.MaxValue);
                    break;
                case "max_completion_tokens":
                    maxCompletionTokens = (int)ReadInteger(value, name, 1, int.MaxValue);
                    break;
                case "presence_penalty":
                    presencePenalty = ReadNumber(value, name, SamplingRanges.PresencePenalty);
                    break;
                case "frequency_penalty":
                    frequencyPenalty = ReadNumber(value, name, SamplingRanges.FrequencyPenalty);
                    break;
                case "logit_bias":
                    logitBias = ParseLogitBias(value);
                    break;
                case "logprobs":
                    logprobs = ReadBool(value, name);
                    break;
                case "top_logprobs":
                    topLogprobs = (int)ReadInteger(value, name, 0, 20);
                    break;
                case "seed":
                    seed = ReadInteger(value, name, long.MinValue, long.MaxValue);
                    break;
                case "response_format":
                    responseFormat = ParseResponseFormat(value);
                    break;
                case "tools":
                    tools = ParseTools(value);
                    break;
                case "tool_choice":
                    toolChoice = ParseToolChoice(value);
                    break;
                case "parallel_tool_calls":
                    parallelToolCalls = ReadBool(value, name);
                    break;
                case "user":
                    user = rules.ReadString(value, name);
                    break;
                case "store":
                    store = ReadBool(value, name);
                    break;
                case "metadata":
                    metadata = ParseMetadata(value);
                    break;
                case "service_tier":
                    serviceTier = ReadString(value, name, 64);
                    break;
                case "reasoning_effort":
                    reasoningEffort = ReadString(value, name, 64);
                    break;
                case "verbosity":
                    verbosity = ReadString(value, name, 64);
                    break;
                case "modalities":
                    modalities = ParseModalities(value);
                    break;
                case "prompt_cache_key":
                    promptCacheKey = rules.ReadString(value, name);
                    break;
                case "safety_identifier":
                    safetyIdentifier = ReadString(value, name, 64);
                    break;
                case "prediction":
                    prediction = RequireObject(value, name);
                    break;
                case "audio":
                    audio = RequireObject(value, name);
                    break;
                case "web_search_options":
                    webSearchOptions = RequireObject(value, name);
                    break;
                case "functions":
                    functions = RequireArray(value, name);
                    break;
                case "function_call":
                    functionCall = value.ValueKind is JsonValueKind.String or JsonValueKind.Object
                        ? value
                        : throw TypeError(name, "one of a string or object", value);
                    break;
                default:
                    // Unknown members are ignored, as OpenAI does; they still travel in Raw.
                    break;
            }
        }

        if (model is null)
        {
            throw root.TryGetProperty("model"u8, out var modelValue) && modelValue.ValueKind == JsonValueKind.Null
                ? TypeError("model", "a string", modelValue)
                : Missing("model");
        }

        if (model.Length == 0)
        {
            throw Reject("Invalid 'model': empty string. Expected a model id.", "model", "invalid_value");
        }

        if (messages is null)
        {
            throw root.TryGetProperty("messages"u8, out var messagesValue) && messagesValue.ValueKind == JsonValueKind.Null
                ? TypeError("messages", "an array", messagesValue)
                : Missing("messages");
        }

        if (topLogprobs is not null && logprobs != true)
        {
            throw Reject(
                "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is given.",
                "top_logprobs",
                "invalid_value");
        }

        if (streamOptions is not null && stream != true)
        {
            throw Reject("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", "invalid_value");
        }

        CheckToolChoice(toolChoice, tools);
        CheckToolMessageOrder(messages);

        return new ChatCompletionRequest
        {
            Model = model,
            Messages = messages,
            Temperature = temperature,
            TopP = topP,
            N = n,
            Stream = stream,
            StreamOptions = streamOptions,
            Stop = stop,
            MaxTokens = maxTokens,
            MaxCompletionTokens = maxCompletionTokens,
            PresencePenalty = presencePenalty,
            FrequencyPenalty = frequencyPenalty,
            LogitBias = logitBias,
            Logprobs = logprobs,
            TopLogprobs = topLogprobs,
            Seed = seed,
            ResponseFormat = responseFormat,
            Tools = tools,
            ToolChoice = toolChoice,
            ParallelToolCalls = parallelToolCalls,
            User = user,
            Store = store,
            Metadata = metadata,
            ServiceTier = serviceTier,
            ReasoningEffort = reasoningEffort,
            Modalities = modalities,
            Verbosity = verbosity,
            PromptCacheKey = promptCacheKey,
            SafetyIdentifier = safetyIdentifier,
            Prediction = prediction,
            Audio = audio,
            FunctionCall = functionCall,
            Functions = functions,
            WebSearchOptions = webSearchOptions,
            Raw = root,
        };
    }

    private List<ChatMessage> ParseMessages(JsonElement value)
    {
        RequireArray(value, "messages");
        var count = value.GetArrayLength();
        if (count == 0)
        {
            throw EmptyArray("messages");
        }

        if (count > limits.MaxMessages)
        {
            throw ArrayTooLong("messages", limits.MaxMessages, count);
        }

        var messages = new List<ChatMessage>(count);
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            messages.Add(ParseMessage(item, Index("messages", index)));
            index++;
        }

        return messages;
    }

    private ChatMessage ParseMessage(JsonElement value, string path)
    {
        RequireObject(value, path);
        var rolePath = path + ".role";
        var roleText = ReadString(GetRequired(value, "role", rolePath), rolePath, 64);
        var role = roleText switch
        {
            "system" => ChatRole.System,
            "developer" => ChatRole.Developer,
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            "tool" => ChatRole.Tool,
            "function" => ChatRole.Function,
            _ => throw InvalidValue(rolePath, roleText, Roles),
        };

        ChatMessageContent? content = null;
        var hasContent = false;
        string? name = null, toolCallId = null, refusal = null;
        List<ChatToolCall>? toolCalls = null;
        ChatFunctionCall? functionCall = null;
        JsonElement? audio = null;

        foreach (var property in value.EnumerateObject())
        {
            var member = property.Value;
            var memberPath = path + "." + property.Name;
            switch (property.Name)
            {
                case "content":
                    hasContent = true;
                    content = ParseContent(member, memberPath, role);
                    break;
                case "name":
                    name = member.ValueKind == JsonValueKind.Null ? null : ReadString(member, memberPath, 256);
                    break;
                case "tool_call_id" when role == ChatRole.Tool:
                    toolCallId = ReadString(member, memberPath, 256);
                    break;
                case "tool_calls" when role == ChatRole.Assistant:
                    toolCalls = member.ValueKind == JsonValueKind.Null ? null : ParseToolCalls(member, memberPath);
                    break;
                case "refusal" when role == ChatRole.Assistant:
                    refusal = rules.ReadOptionalString(member, memberPath);
                    break;
                case "function_call" when role == ChatRole.Assistant:
                    functionCall = member.ValueKind == JsonValueKind.Null ? null : ParseFunctionCall(member, memberPath);
                    break;
                case "audio" when role == ChatRole.Assistant:
                    audio = OptionalObject(member, memberPath);
                    break;
                default:
                    break;
            }
        }

        var contentPath = path + ".content";
        if (content is null)
        {
            // Assistant messages may omit content (or send null) when they call tools.
            var callsSomething = toolCalls is { Count: > 0 } || functionCall is not null;
            if (role == ChatRole.Assistant ? !callsSomething : true)
            {
                if (role == ChatRole.Function && hasContent)
                {
                    // Deprecated function results allow null content.
                }
                else if (hasContent)
                {
                    throw TypeError(contentPath, "one of a string or array of objects", value.GetProperty("content"u8));
                }
                else
                {
                    throw Missing(contentPath);
                }
            }
        }

        if (role == ChatRole.Tool && toolCallId is null)
        {
            throw Missing(path + ".tool_call_id");
        }

        if (role == ChatRole.Function && name is null)
        {
            throw Missing(path + ".name");
        }

        return new ChatMessage
        {
            Role = role,
            Content = content,
            Name = name,
            ToolCalls = toolCalls,
            ToolCallId = toolCallId,
            Refusal = refusal,
            FunctionCall = functionCall,
            Audio = audio,
        };
    }

    private ChatMessageContent? ParseContent(JsonElement value, string path, ChatRole role)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                return ChatMessageContent.FromText(rules.ReadString(value, path));
            case JsonValueKind.Array:
                break;
            default:
                throw TypeError(path, "one of a string or array of objects", value);
        }

        var count = value.GetArrayLength();
        if (count == 0)
        {
            throw EmptyArray(path);
        }

        if (count > limits.MaxContentParts)
        {
            throw ArrayTooLong(path, limits.MaxContentParts, count);
        }

        var allowed = role switch
        {
            ChatRole.User => UserPartTypes,
            ChatRole.Assistant => AssistantPartTypes,
            _ => TextPartTypes,
        };

        var parts = new List<ChatContentPart>(count);
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            parts.Add(ParsePart(item, Index(path, index), allowed));
            index++;
        }

        return ChatMessageContent.FromParts(parts);
    }

    private ChatContentPart ParsePart(JsonElement value, string path, string[] allowedTypes)
    {
        RequireObject(value, path);
        var typePath = path + ".type";
        var type = ReadString(GetRequired(value, "type", typePath), typePath, 64);
        if (Array.IndexOf(allowedTypes, type) < 0)
        {
            throw InvalidValue(typePath, type, allowedTypes);
        }

        switch (type)
        {
            case ChatContentPartTypes.Text:
                return new ChatContentPart { Type = type, Text = rules.ReadString(GetRequired(value, "text", path + ".text"), path + ".text") };
            case ChatContentPartTypes.Refusal:
                return new ChatContentPart { Type = type, Refusal = rules.ReadString(GetRequired(value, "refusal", path + ".refusal"), path + ".refusal") };
            case ChatContentPartTypes.ImageUrl:
            {
                var imagePath = path + ".image_url";
                var image = RequireObject(GetRequired(value, "image_url", imagePath), imagePath);
                var url = rules.ReadString(GetRequired(image, "url", imagePath + ".url"), imagePath + ".url");
                string? detail = null;
                if (image.TryGetProperty("detail"u8, out var detailValue) && detailValue.ValueKind != JsonValueKind.Null)
                {
                    detail = ReadString(detailValue, imagePath + ".detail", 64);
                    if (Array.IndexOf(ImageDetails, detail) < 0)
                    {
                        throw InvalidValue(imagePath + ".detail", detail, ImageDetails);
                    }
                }

                return new ChatContentPart { Type = type, ImageUrl = new ChatImageUrl { Url = url, Detail = detail } };
            }

            case ChatContentPartTypes.InputAudio:
            {
                var audioPath = path + ".input_audio";
                var audio = RequireObject(GetRequired(value, "input_audio", audioPath), audioPath);
                var data = rules.ReadString(GetRequired(audio, "data", audioPath + ".data"), audioPath + ".data");
                var format = ReadString(GetRequired(audio, "format", audioPath + ".format"), audioPath + ".format", 64);
                if (Array.IndexOf(AudioFormats, format) < 0)
                {
                    throw InvalidValue(audioPath + ".format", format, AudioFormats);
                }

                return new ChatContentPart { Type = type, InputAudio = new ChatInputAudio { Data = data, Format = format } };
            }

            default:
            {
                var filePath = path + ".file";
                var file = RequireObject(GetRequired(value, "file", filePath), filePath);
                return new ChatContentPart
                {
                    Type = type,
                    File = new ChatInputFile
                    {
                        Filename = OptionalMemberString(file, "filename", filePath),
                        FileData = OptionalMemberString(file, "file_data", filePath),
                        FileId = OptionalMemberString(file, "file_id", filePath),
                    },
                };
            }
        }
    }

    private List<ChatToolCall> ParseToolCalls(JsonElement value, string path)
    {
        RequireArray(value, path);
        var count = value.GetArrayLength();
        if (count > limits.MaxToolCalls)
        {
            throw ArrayTooLong(path, limits.MaxToolCalls, count);
        }

        var calls = new List<ChatToolCall>(count);
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var itemPath = Index(path, index++);
            RequireObject(item, itemPath);
            var id = ReadString(GetRequired(item, "id", itemPath + ".id"), itemPath + ".id", 256);
            var type = ReadString(GetRequired(item, "type", itemPath + ".type"), itemPath + ".type", 64);
            if (type == "function")
            {
                var function = ParseFunctionCall(GetRequired(item, "function", itemPath + ".function"), itemPath + ".function");
                calls.Add(new ChatToolCall { Id = id, Type = type, Function = function });
            }
            else if (type == "custom")
            {
                var customPath = itemPath + ".custom";
                var custom = RequireObject(GetRequired(item, "custom", customPath), customPath);
                ReadString(GetRequired(custom, "name", customPath + ".name"), customPath + ".name", 64);
                rules.ReadString(GetRequired(custom, "input", customPath + ".input"), customPath + ".input");
                calls.Add(new ChatToolCall { Id = id, Type = type, Custom = custom });
            }
            else
            {
                throw InvalidValue(itemPath + ".type", type, ToolCallTypes);
            }
        }

        return calls;
    }

    private ChatFunctionCall ParseFunctionCall(JsonElement value, string path)
    {
        RequireObject(value, path);
        var name = ReadString(GetRequired(value, "name", path + ".name"), path + ".name", 256);
        var arguments = rules.ReadString(GetRequired(value, "arguments", path + ".arguments"), path + ".arguments");
        return new ChatFunctionCall { Name = name, Arguments = arguments };
    }

    private static ChatStreamOptions ParseStreamOptions(JsonElement value)
    {
        RequireObject(value, "stream_options");
        bool? includeUsage = null, includeObfuscation = null;
        if (value.TryGetProperty("include_usage"u8, out var usage))
        {
            includeUsage = ReadOptionalBool(usage, "stream_options.include_usage");
        }

        if (value.TryGetProperty("include_obfuscation"u8, out var obfuscation))
        {
            includeObfuscation = ReadOptionalBool(obfuscation, "stream_options.include_obfuscation");
        }

        return new ChatStreamOptions { IncludeUsage = includeUsage, IncludeObfuscation = includeObfuscation };
    }

    private List<string> ParseStop(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return [rules.ReadString(value, "stop")];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw TypeError("stop", "one of a string or array of strings", value);
        }

        var count = value.GetArrayLength();
        if (count == 0)
        {
            throw EmptyArray("stop");
        }

        if (count > 4)
        {
            throw ArrayTooLong("stop", 4, count);
        }

        var stop = new List<string>(count);
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            stop.Add(rules.ReadString(item, Index("stop", index++)));
        }

        return stop;
    }

    private Dictionary<int, double> ParseLogitBias(JsonElement value)
    {
        RequireObject(value, "logit_bias");
        var bias = new Dictionary<int, double>();
        foreach (var entry in value.EnumerateObject())
        {
            if (bias.Count >= limits.MaxLogitBiasEntries)
            {
                throw Reject(
                    $"Invalid 'logit_bias': too many entries. Expected at most {limits.MaxLogitBiasEntries.ToString(CultureInfo.InvariantCulture)}.",
                    "logit_bias",
                    "invalid_value");
            }

            if (!int.TryParse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var token))
            {
                throw Reject(
                    $"Invalid key in 'logit_bias': '{Shorten(entry.Name)}'. Keys must be token ids (non-negative integers).",
                    "logit_bias",
                    "invalid_value");
            }

            bias[token] = ReadNumber(entry.Value, "logit_bias." + entry.Name, SamplingRanges.LogitBias);
        }

        return bias;
    }

    internal static Dictionary<string, string> ParseMetadata(JsonElement value)
    {
        RequireObject(value, "metadata");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            if (metadata.Count >= 16)
            {
                throw Reject("Invalid 'metadata': too many properties. Expected at most 16.", "metadata", "invalid_value");
            }

            if (entry.Name.Length > 64)
            {
                throw Reject("Invalid 'metadata': keys must be at most 64 characters.", "metadata", "invalid_value");
            }

            metadata[entry.Name] = ReadString(entry.Value, "metadata." + entry.Name, 512);
        }

        return metadata;
    }

    private static List<string> ParseModalities(JsonElement value)
    {
        RequireArray(value, "modalities");
        var modalities = new List<string>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var path = Index("modalities", index++);
            var modality = ReadString(item, path, 64);
            if (Array.IndexOf(ModalityValues, modality) < 0)
            {
                throw InvalidValue(path, modality, ModalityValues);
            }

            modalities.Add(modality);
        }

        return modalities;
    }

    private ResponseFormat ParseResponseFormat(JsonElement value)
    {
        RequireObject(value, "response_format");
        var type = ReadString(GetRequired(value, "type", "response_format.type"), "response_format.type", 64);
        switch (type)
        {
            case ResponseFormatTypes.Text:
            case ResponseFormatTypes.JsonObject:
                return new ResponseFormat { Type = type };
            case ResponseFormatTypes.JsonSchema:
                const string path = "response_format.json_schema";
                var schemaObject = RequireObject(GetRequired(value, "json_schema", path), path);
                var name = ReadName(GetRequired(schemaObject, "name", path + ".name"), path + ".name");
                JsonElement? schema = null;
                string? description = null;
                bool? strict = null;
                if (schemaObject.TryGetProperty("schema"u8, out var schemaValue) && schemaValue.ValueKind != JsonValueKind.Null)
                {
                    schema = RequireObject(schemaValue, path + ".schema");
                }

                if (schemaObject.TryGetProperty("description"u8, out var descriptionValue))
                {
                    description = rules.ReadOptionalString(descriptionValue, path + ".description");
                }

                if (schemaObject.TryGetProperty("strict"u8, out var strictValue))
                {
                    strict = ReadOptionalBool(strictValue, path + ".strict");
                }

                return new ResponseFormat
                {
                    Type = type,
                    JsonSchema = new ResponseJsonSchema { Name = name, Description = description, Schema = schema, Strict = strict },
                };
            default:
                throw InvalidValue("response_format.type", type, ResponseFormats);
        }
    }

    private List<ChatTool> ParseTools(JsonElement value)
    {
        RequireArray(value, "tools");
        var count = value.GetArrayLength();
        if (count > limits.MaxTools)
        {
            throw ArrayTooLong("tools", limits.MaxTools, count);
        }

        var tools = new List<ChatTool>(count);
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var path = Index("tools", index++);
            RequireObject(item, path);
            var type = ReadString(GetRequired(item, "type", path + ".type"), path + ".type", 64);
            if (type == "function")
            {
                var functionPath = path + ".function";
                var function = RequireObject(GetRequired(item, "function", functionPath), functionPath);
                var name = ReadName(GetRequired(function, "name", functionPath + ".name"), functionPath + ".name");
                string? description = null;
                JsonElement? parameters = null;
                bool? strict = null;
                if (function.TryGetProperty("description"u8, out var descriptionValue))
                {
                    description = rules.ReadOptionalString(descriptionValue, functionPath + ".description");
                }

                if (function.TryGetProperty("parameters"u8, out var parametersValue) && parametersValue.ValueKind != JsonValueKind.Null)
                {
                    parameters = RequireObject(parametersValue, functionPath + ".parameters");
                }

                if (function.TryGetProperty("strict"u8, out var strictValue))
                {
                    strict = ReadOptionalBool(strictValue, functionPath + ".strict");
                }

                tools.Add(new ChatTool
                {
                    Type = type,
                    Function = new FunctionDefinition { Name = name, Description = description, Parameters = parameters, Strict = strict },
                });
            }
            else if (type == "custom")
            {
                var customPath = path + ".custom";
                var custom = RequireObject(GetRequired(item, "custom", customPath), customPath);
                ReadName(GetRequired(custom, "name", customPath + ".name"), customPath + ".name");
                tools.Add(new ChatTool { Type = type, Custom = custom });
            }
            else
            {
                throw InvalidValue(path + ".type", type, ToolTypes);
            }
        }

        return tools;
    }

    private static ToolChoice ParseToolChoice(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            var mode = ReadString(value, "tool_choice", 64);
            return mode switch
            {
                "none" => ToolChoice.None,
                "auto" => ToolChoice.Auto,
                "required" => ToolChoice.Required,
                _ => throw InvalidValue("tool_choice", mode, ToolChoiceModes),
            };
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw TypeError("tool_choice", "one of a string or object", value);
        }

        var type = ReadString(GetRequired(value, "type", "tool_choice.type"), "tool_choice.type", 64);
        switch (type)
        {
            case "function":
            case "custom":
            {
                var path = "tool_choice." + type;
                var target = RequireObject(GetRequired(value, type, path), path);
                var name = ReadString(GetRequired(target, "name", path + ".name"), path + ".name", 256);
                return new ToolChoice { Mode = type == "function" ? ToolChoiceMode.Function : ToolChoiceMode.Custom, Name = name };
            }

            case "allowed_tools":
            {
                const string path = "tool_choice.allowed_tools";
                var allowed = RequireObject(GetRequired(value, "allowed_tools", path), path);
                var mode = ReadString(GetRequired(allowed, "mode", path + ".mode"), path + ".mode", 64);
                if (Array.IndexOf(AllowedToolsModes, mode) < 0)
                {
                    throw InvalidValue(path + ".mode", mode, AllowedToolsModes);
                }

                RequireArray(GetRequired(allowed, "tools", path + ".tools"), path + ".tools");
                return new ToolChoice { Mode = ToolChoiceMode.AllowedTools, AllowedTools = allowed };
            }

            default:
                throw InvalidValue("tool_choice.type", type, ToolChoiceTypes);
        }
    }

    private static void CheckToolChoice(ToolChoice? choice, List<ChatTool>? tools)
    {
        if (choice is null || choice.Mode is ToolChoiceMode.None or ToolChoiceMode.Auto)
        {
            return;
        }

        if (tools is null || tools.Count == 0)
        {
            throw Reject(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                "tool_choice",
                "invalid_value");
        }

        if (choice.Mode is ToolChoiceMode.Function or ToolChoiceMode.Custom)
        {
            var wantedType = choice.Mode == ToolChoiceMode.Function ? "function" : "custom";
            foreach (var tool in tools)
            {
                if (tool.Type == wantedType && tool.Name == choice.Name)
                {
                    return;
                }
            }

            throw Reject(
                $"Invalid value for 'tool_choice': no {wantedType} named '{Shorten(choice.Name ?? string.Empty)}' is listed in 'tools'.",
                $"tool_choice.{wantedType}.name",
                "invalid_value");
        }
    }

    /// <summary>
    /// OpenAI's ordering rules: a tool message answers a call of the assistant message before it, and every
    /// call of an assistant message is answered before the conversation moves on.
    /// </summary>
    private static void CheckToolMessageOrder(List<ChatMessage> messages)
    {
        List<string>? open = null;
        var openIndex = -1;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Role == ChatRole.Tool)
            {
                if (openIndex < 0)
                {
                    throw Reject(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceding message with 'tool_calls'.",
                        Index("messages", i) + ".role",
                        null);
                }

                if (open is null || !open.Remove(message.ToolCallId!))
                {
                    throw Reject(
                        $"Invalid parameter: 'tool_call_id' of '{Shorten(message.ToolCallId!)}' not found in 'tool_calls' of previous message.",
                        Index("messages", i) + ".tool_call_id",
                        null);
                }

                continue;
            }

            ThrowIfUnanswered(open, openIndex);
            if (message.Role == ChatRole.Assistant && message.ToolCalls is { Count: > 0 } calls)
            {
                open = new List<string>(calls.Count);
                foreach (var call in calls)
                {
                    open.Add(call.Id);
                }

                openIndex = i;
            }
            else
            {
                open = null;
                openIndex = -1;
            }
        }

        ThrowIfUnanswered(open, openIndex);
    }

    private static void ThrowIfUnanswered(List<string>? open, int openIndex)
    {
        if (open is { Count: > 0 })
        {
            throw Reject(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. "
                + $"The following tool_call_ids did not have response messages: {Shorten(string.Join(", ", open))}",
                Index("messages", openIndex),
                null);
        }
    }

    private string? OptionalMemberString(JsonElement obj, string name, string path) =>
        obj.TryGetProperty(name, out var value) ? rules.ReadOptionalString(value, path + "." + name) : null;

    /// <summary>Function and schema names: <c>^[a-zA-Z0-9_-]{1,64}$</c>.</summary>
    private static string ReadName(JsonElement value, string path)
    {
        var name = ReadString(value, path, 64);
        if (name.Length == 0)
        {
            throw Reject($"Invalid '{path}': empty string. Expected a string with minimum length 1.", path, "empty_string");
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                throw Reject(
                    $"Invalid '{path}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                    path,
                    "invalid_value");
            }
        }

        return name;
    }

    private static string Index(string path, int index) =>
        string.Concat(path, "[", index.ToString(CultureInfo.InvariantCulture), "]");
}
