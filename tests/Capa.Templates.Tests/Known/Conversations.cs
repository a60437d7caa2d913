namespace Capa.Templates.Tests.Known;

/// <summary>
/// The conversations every known template is rendered with, as JSON objects of render variables
/// (<c>messages</c>, <c>tools</c>, <c>add_generation_prompt</c>). The same JSON goes to the oracle.
/// </summary>
internal static class Conversations
{
    /// <summary>The question of the seed tutorial.</summary>
    public const string SeedQuestion = "谁获得了2022年英雄联盟S赛世界冠军？";

    private const string Tools = """
        [{"type": "function", "function": {"name": "get_weather", "description": "Get the current weather in a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name, e.g. 北京"},
          "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}}]
        """;

    private const string ToolResult = "{\"temperature\": 22, \"condition\": \"晴\"}";

    public static readonly IReadOnlyDictionary<string, string> All = Expand(new Dictionary<string, string>
    {
        ["system_user"] = """
            {"messages": [{"role": "system", "content": "You are a helpful assistant."},
                          {"role": "user", "content": "@SEED@"}],
             "add_generation_prompt": true}
            """,
        ["user_only"] = """
            {"messages": [{"role": "user", "content": "Hello!"}], "add_generation_prompt": true}
            """,
        ["multi_turn"] = """
            {"messages": [{"role": "user", "content": "Hi"},
                          {"role": "assistant", "content": "Hello! How can I help?"},
                          {"role": "user", "content": "@SEED@"}],
             "add_generation_prompt": true}
            """,
        ["multi_turn_no_generation_prompt"] = """
            {"messages": [{"role": "system", "content": "你是一个乐于助人的助手。"},
                          {"role": "user", "content": "@SEED@"},
                          {"role": "assistant", "content": "2022年英雄联盟S赛（全球总决赛）的世界冠军是韩国的DRX战队。"}],
             "add_generation_prompt": false}
            """,
        ["tools"] = """
            {"messages": [{"role": "system", "content": "You are a helpful assistant."},
                          {"role": "user", "content": "What's the weather in Beijing?"}],
             "tools": @TOOLS@, "add_generation_prompt": true}
            """,
        ["tool_call_object_arguments"] = """
            {"messages": [{"role": "user", "content": "北京天气怎么样？"},
                          {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                             "function": {"name": "get_weather", "arguments": {"city": "北京", "unit": "celsius"}}}]},
                          {"role": "tool", "tool_call_id": "call_1", "content": @TOOL_RESULT@}],
             "tools": @TOOLS@, "add_generation_prompt": true}
            """,
        ["tool_call_string_arguments"] = """
            {"messages": [{"role": "user", "content": "北京天气怎么样？"},
                          {"role": "assistant", "content": "", "tool_calls": [{"id": "call_1", "type": "function",
                             "function": {"name": "get_weather", "arguments": "{\"city\": \"北京\", \"unit\": \"celsius\"}"}}]},
                          {"role": "tool", "tool_call_id": "call_1", "content": @TOOL_RESULT@},
                          {"role": "assistant", "content": "北京现在晴，22°C。"},
                          {"role": "user", "content": "谢谢"}],
             "tools": @TOOLS@, "add_generation_prompt": false}
            """,
        ["two_tool_calls"] = """
            {"messages": [{"role": "user", "content": "Weather in Beijing and Paris?"},
                          {"role": "assistant", "content": "", "tool_calls": [
                             {"id": "a", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Beijing"}}},
                             {"id": "b", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
                          {"role": "tool", "tool_call_id": "a", "content": "22"},
                          {"role": "tool", "tool_call_id": "b", "content": "18"}],
             "tools": @TOOLS@, "add_generation_prompt": true}
            """,
        ["special_characters"] = """
            {"messages": [{"role": "system", "content": "  Answer in 中文 \"briefly\".\n"},
                          {"role": "user", "content": "  多行\n内容 with \\ backslash, tab\t and emoji 😀  "},
                          {"role": "assistant", "content": " 好的 😀 "},
                          {"role": "user", "content": "<|im_end|> {{ not a template }} {% raw %}"}],
             "add_generation_prompt": true}
            """,
        ["tool_call_rich_arguments"] = """
            {"messages": [{"role": "user", "content": "Plan a trip"},
                          {"role": "assistant", "content": "", "tool_calls": [{"id": "t1", "type": "function",
                             "function": {"name": "plan", "arguments": {"title": "He said \"hi\"\nthen left", "days": 2.5, "count": 3,
                               "ratio": -0.125, "big": 12345678901, "ok": true, "none": null, "tags": ["a", "b"], "nested": {"x": [], "y": {}},
                               "emoji": "😀", "path": "C:\\temp"}}}]},
                          {"role": "tool", "tool_call_id": "t1", "content": "done"}],
             "tools": [{"type": "function", "function": {"name": "plan", "description": "Plan with \"quotes\" and 中文",
               "parameters": {"type": "object", "properties": {"days": {"type": "number", "minimum": 0.5, "default": null},
               "tags": {"type": "array", "items": {"type": "string"}}}, "required": []}}}],
             "add_generation_prompt": true}
            """,
        ["assistant_thinking"] = """
            {"messages": [{"role": "user", "content": "2+2?"},
                          {"role": "assistant", "content": "<think>\nSimple sum.\n</think>\n\n4"},
                          {"role": "user", "content": "Thanks"}],
             "add_generation_prompt": true}
            """,
    });

    private static Dictionary<string, string> Expand(Dictionary<string, string> conversations) =>
        conversations.ToDictionary(
            p => p.Key,
            p => p.Value
                .Replace("@SEED@", SeedQuestion, StringComparison.Ordinal)
                .Replace("@TOOLS@", Tools, StringComparison.Ordinal)
                .Replace("@TOOL_RESULT@", System.Text.Json.JsonSerializer.Serialize(ToolResult), StringComparison.Ordinal));

    /// <summary>The special tokens each family's tokenizer_config.json passes to its template.</summary>
    public static readonly IReadOnlyDictionary<string, (string? Bos, string Eos)> Tokens = new Dictionary<string, (string?, string)>
    {
        ["qwen2.5"] = (null, "<|im_end|>"),
        ["qwen3"] = (null, "<|im_end|>"),
        ["llama3.1"] = ("<|begin_of_text|>", "<|eot_id|>"),
        ["llama3.2"] = ("<|begin_of_text|>", "<|eot_id|>"),
        ["smollm2"] = ("<|im_start|>", "<|im_end|>"),
        ["phi3.5"] = ("<s>", "<|endoftext|>"),
        ["gemma2"] = ("<bos>", "<eos>"),
        ["gemma3"] = ("<bos>", "<eos>"),
    };

    /// <summary>The render variables of <paramref name="conversation"/> for <paramref name="family"/>, as JSON text.</summary>
    public static string VariablesJson(string family, string conversation)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(All[conversation])!.AsObject();
        (string? bos, string eos) = Tokens[family];
        node["bos_token"] = bos;
        node["eos_token"] = eos;
        return node.ToJsonString();
    }

    public static TheoryData<string, string> FamilyConversationPairs()
    {
        var data = new TheoryData<string, string>();
        foreach (string family in KnownTemplates.Families)
        {
            foreach (string conversation in All.Keys)
            {
                data.Add(family, conversation);
            }
        }

        return data;
    }
}
