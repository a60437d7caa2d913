namespace Capa.Templates.Tests.Runtime;

public sealed class RenderingTests
{
    [Fact]
    public void One_parse_renders_many_times_and_in_parallel()
    {
        ChatTemplate template = ChatTemplate.Parse(KnownTemplates.Get("qwen3"));
        string[] results = new string[64];
        Parallel.For(0, results.Length, i => results[i] = template.Render(TemplateTestHelpers.Json(
            $$"""{"messages": [{"role": "user", "content": "question {{i}}"}], "add_generation_prompt": true}""")));
        for (int i = 0; i < results.Length; i++)
        {
            Assert.Equal($"<|im_start|>user\nquestion {i}<|im_end|>\n<|im_start|>assistant\n", results[i]);
        }
    }

    [Fact]
    public void Rendering_does_not_change_the_callers_values()
    {
        var messages = new List<object?> { new Dictionary<string, object?> { ["role"] = "user", ["content"] = "x" } };
        var variables = new Dictionary<string, object?> { ["messages"] = messages };
        ChatTemplate.Parse("{% set messages = messages[1:] %}{% set ns = namespace(m=messages) %}{{ messages | length }}").Render(variables);
        Assert.Single(messages);
    }

    [Fact]
    public void Strftime_now_reads_the_injected_clock()
    {
        var template = ChatTemplate.Parse("{{ strftime_now('%Y-%m-%d %H:%M:%S %a %A %B %j %I%p %%') }}");
        Assert.Equal("2026-03-09 10:00:00 Mon Monday March 068 10AM %", template.Render(new Dictionary<string, object?>(), FixedClock.Instance));
    }

    [Fact]
    public void Variables_can_shadow_globals()
    {
        Assert.Equal("custom", TemplateTestHelpers.Render("{{ strftime_now }}", "{\"strftime_now\":\"custom\"}"));
    }
}
