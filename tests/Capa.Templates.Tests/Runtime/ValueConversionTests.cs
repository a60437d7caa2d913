using System.Text.Json;
using System.Text.Json.Nodes;

namespace Capa.Templates.Tests.Runtime;

public sealed class ValueConversionTests
{
    private static string Render(string template, object? x) =>
        ChatTemplate.Parse(template).Render(new Dictionary<string, object?> { ["x"] = x });

    [Fact]
    public void Clr_primitives()
    {
        Assert.Equal("a|true|42|-7|1.5|3|", Render("{{ x[0] }}|{{ x[1] }}|{{ x[2] }}|{{ x[3] }}|{{ x[4] }}|{{ x[5] }}|{{ x[6] }}",
            new object?[] { "a", true, 42, -7L, 1.5, 3.0, null }));
    }

    [Fact]
    public void Whole_numbers_are_integers_as_in_json_parse()
    {
        Assert.Equal("true|true|true", Render("{{ x[0] is integer }}|{{ x[1] is integer }}|{{ x[2] is integer }}",
            JsonDocument.Parse("[2, 2.0, 1e3]").RootElement));
        Assert.Equal("2|1000|0.5", Render("{{ x[0] }}|{{ x[1] }}|{{ x[2] }}", JsonDocument.Parse("[2.0, 1e3, 0.5]").RootElement));
    }

    [Fact]
    public void Dictionaries_keep_insertion_order_and_sequences_become_lists()
    {
        var dict = new Dictionary<string, object?> { ["z"] = 1, ["a"] = new List<int> { 1, 2 } };
        Assert.Equal("{\"z\": 1, \"a\": [1, 2]}", Render("{{ x | tojson }}", dict));
        Assert.Equal("[1, 2, 3]", Render("{{ x | tojson }}", Enumerable.Range(1, 3)));
    }

    [Fact]
    public void Json_nodes_and_elements()
    {
        JsonNode node = JsonNode.Parse("""{"b": [1, "two", null, {"c": true}], "a": 1.25}""")!;
        Assert.Equal("{\"b\": [1, \"two\", null, {\"c\": true}], \"a\": 1.25}", Render("{{ x | tojson }}", node));
        Assert.Equal("two", Render("{{ x.b[1] }}", JsonDocument.Parse("""{"b": [1, "two"]}""").RootElement));
        Assert.Equal("5", Render("{{ x }}", JsonValue.Create(5)));
        Assert.Equal("s", Render("{{ x }}", JsonValue.Create("s")));
    }

    [Fact]
    public void Mappings_need_string_keys()
    {
        Assert.Throws<ArgumentException>(() => Render("{{ x }}", new System.Collections.Hashtable { [1] = "a" }));
    }
}
