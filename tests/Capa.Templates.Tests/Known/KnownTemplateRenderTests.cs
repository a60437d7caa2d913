using System.Text.Json;
using System.Text.Json.Nodes;

namespace Capa.Templates.Tests.Known;

/// <summary>Every known template × every conversation: renders, or fails exactly where the real template does.</summary>
public sealed class KnownTemplateRenderTests
{
    private const string Alternate = "Conversation roles must alternate user/assistant/user/assistant/...";
    private const string SingleToolCall = "This model only supports single tool-calls at once!";

    /// <summary>Where a template refuses a conversation: the message it raises, or null for a runtime error (e.g. null content).</summary>
    private static readonly Dictionary<(string Family, string Conversation), string?> Failures = new()
    {
        [("llama3.1", "two_tool_calls")] = SingleToolCall,
        [("llama3.2", "two_tool_calls")] = SingleToolCall,
        [("smollm2", "tool_call_object_arguments")] = null,
        [("phi3.5", "tool_call_object_arguments")] = null,
        [("gemma2", "system_user")] = "System role not supported",
        [("gemma2", "multi_turn_no_generation_prompt")] = "System role not supported",
        [("gemma2", "tools")] = "System role not supported",
        [("gemma2", "tool_call_object_arguments")] = null,
        [("gemma2", "tool_call_string_arguments")] = Alternate,
        [("gemma2", "two_tool_calls")] = Alternate,
        [("gemma3", "tool_call_object_arguments")] = "Invalid content type",
        [("gemma3", "tool_call_string_arguments")] = Alternate,
        [("gemma3", "two_tool_calls")] = Alternate,
        [("gemma2", "special_characters")] = "System role not supported",
        [("gemma2", "tool_call_rich_arguments")] = Alternate,
        [("gemma3", "tool_call_rich_arguments")] = Alternate,
    };

    private static readonly Dictionary<string, string> GenerationPrompts = new()
    {
        ["qwen2.5"] = "<|im_start|>assistant\n",
        ["qwen3"] = "<|im_start|>assistant\n",
        ["llama3.1"] = "<|start_header_id|>assistant<|end_header_id|>\n\n",
        ["llama3.2"] = "<|start_header_id|>assistant<|end_header_id|>\n\n",
        ["smollm2"] = "<|im_start|>assistant\n",
        ["phi3.5"] = "<|assistant|>\n",
        ["gemma2"] = "<start_of_turn>model\n",
        ["gemma3"] = "<start_of_turn>model\n",
    };

    public static TheoryData<string, string> Pairs() => Conversations.FamilyConversationPairs();

    internal static string RenderKnown(string family, string conversation) =>
        ChatTemplate.Parse(KnownTemplates.Get(family))
            .Render(TemplateTestHelpers.Json(Conversations.VariablesJson(family, conversation)), FixedClock.Instance);

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Renders_or_fails_as_the_template_does(string family, string conversation)
    {
        if (Failures.TryGetValue((family, conversation), out string? raised))
        {
            var error = Assert.Throws<TemplateException>(() => RenderKnown(family, conversation));
            if (raised is null)
            {
                Assert.Equal(TemplateErrorKind.Runtime, error.Kind);
                Assert.NotNull(error.Line);
            }
            else
            {
                Assert.Equal(TemplateErrorKind.Raised, error.Kind);
                Assert.Equal(raised, error.Message);
            }

            return;
        }

        string prompt = RenderKnown(family, conversation);
        using JsonDocument doc = JsonDocument.Parse(Conversations.All[conversation]);
        foreach (JsonElement message in doc.RootElement.GetProperty("messages").EnumerateArray())
        {
            if (message.GetProperty("role").GetString() is "user" && message.GetProperty("content").GetString() is { } content)
            {
                // Llama and Gemma templates trim message content.
                Assert.Contains(content.Trim(), prompt, StringComparison.Ordinal);
            }
        }

        bool generationPrompt = doc.RootElement.GetProperty("add_generation_prompt").GetBoolean();
        Assert.Equal(generationPrompt, prompt.EndsWith(GenerationPrompts[family], StringComparison.Ordinal));
        if (doc.RootElement.TryGetProperty("tools", out JsonElement tools) && family is "qwen2.5" or "qwen3" or "llama3.1" or "llama3.2")
        {
            string toolName = tools[0].GetProperty("function").GetProperty("name").GetString()!;
            Assert.Contains($"\"name\": \"{toolName}\"", prompt, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Qwen25_system_and_seed_question()
    {
        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n谁获得了2022年英雄联盟S赛世界冠军？<|im_end|>\n<|im_start|>assistant\n",
            RenderKnown("qwen2.5", "system_user"));
        Assert.StartsWith(
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!",
            RenderKnown("qwen2.5", "user_only"), StringComparison.Ordinal);
    }

    [Fact]
    public void Qwen25_tool_calls_render_arguments_as_compact_json()
    {
        string prompt = RenderKnown("qwen2.5", "tool_call_object_arguments");
        Assert.Contains(
            "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"北京\", \"unit\": \"celsius\"}}\n</tool_call><|im_end|>\n" +
            "<|im_start|>user\n<tool_response>\n{\"temperature\": 22, \"condition\": \"晴\"}\n</tool_response><|im_end|>\n",
            prompt, StringComparison.Ordinal);
        Assert.Contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\"", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void Qwen3_keeps_string_arguments_verbatim_and_splits_thinking()
    {
        Assert.Contains(
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"北京\", \"unit\": \"celsius\"}}\n</tool_call>",
            RenderKnown("qwen3", "tool_call_string_arguments"), StringComparison.Ordinal);
        Assert.Equal(
            "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nThanks<|im_end|>\n<|im_start|>assistant\n",
            RenderKnown("qwen3", "assistant_thinking"));
    }

    [Fact]
    public void Llama32_dates_from_the_clock_and_indents_tools()
    {
        string prompt = RenderKnown("llama3.2", "tools");
        Assert.StartsWith(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\nCutting Knowledge Date: December 2023\nToday Date: 09 Mar 2026\n\nYou are a helpful assistant.<|eot_id|>",
            prompt, StringComparison.Ordinal);
        Assert.Contains("{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"get_weather\",", prompt, StringComparison.Ordinal);
        Assert.Contains("\"enum\": [\n                        \"celsius\",\n                        \"fahrenheit\"\n                    ]", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void Llama31_has_no_clock_and_uses_its_fixed_date()
    {
        Assert.Contains("Today Date: 26 Jul 2024\n", RenderKnown("llama3.1", "system_user"), StringComparison.Ordinal);
    }

    [Fact]
    public void Llama_tool_call_and_tool_result()
    {
        string prompt = RenderKnown("llama3.2", "tool_call_object_arguments");
        Assert.Contains(
            "<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"get_weather\", \"parameters\": {\"city\": \"北京\", \"unit\": \"celsius\"}}<|eot_id|>" +
            "<|start_header_id|>ipython<|end_header_id|>\n\n\"{\\\"temperature\\\": 22, \\\"condition\\\": \\\"晴\\\"}\"<|eot_id|>",
            prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void Gemma3_folds_the_system_message_into_the_first_user_turn()
    {
        Assert.Equal(
            "<bos><start_of_turn>user\nYou are a helpful assistant.\n\n谁获得了2022年英雄联盟S赛世界冠军？<end_of_turn>\n<start_of_turn>model\n",
            RenderKnown("gemma3", "system_user"));
    }

    [Fact]
    public void Phi35_ends_without_generation_prompt_with_eos()
    {
        Assert.EndsWith("<|end|>\n<|endoftext|>", RenderKnown("phi3.5", "multi_turn_no_generation_prompt"), StringComparison.Ordinal);
    }

    [Fact]
    public void Clr_values_json_nodes_and_json_elements_render_alike()
    {
        string json = Conversations.VariablesJson("qwen2.5", "tool_call_object_arguments");
        ChatTemplate template = ChatTemplate.Parse(KnownTemplates.Get("qwen2.5"));
        string fromElements = template.Render(TemplateTestHelpers.Json(json));

        JsonObject node = JsonNode.Parse(json)!.AsObject();
        var fromNodesVariables = node.ToDictionary(p => p.Key, p => (object?)p.Value);
        Assert.Equal(fromElements, template.Render(fromNodesVariables));

        using JsonDocument document = JsonDocument.Parse(json);
        var clr = (IReadOnlyDictionary<string, object?>)ToClr(document.RootElement)!;
        Assert.Equal(fromElements, template.Render(clr));
    }

    private static object? ToClr(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => ToClr(p.Value)) as IReadOnlyDictionary<string, object?>,
        JsonValueKind.Array => e.EnumerateArray().Select(ToClr).ToList(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out long l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
