using System.Text.Json;

namespace Capa.Protocol.Tests.Serialization;

public class CapaJsonContextTests
{
    /// <summary>Public types that are not wire types.</summary>
    private static readonly Type[] NotWireTypes =
    [
        typeof(ApiError), typeof(SseEventParser), typeof(SseEvent), typeof(ChatRequestLimits), typeof(CapaJsonContext),
        typeof(ToolChoiceMode), // in-memory only: ToolChoice writes its own wire form
        typeof(Capa.Protocol.Responses.ResponsesJsonContext),
        typeof(Capa.Protocol.Responses.CreateResponseRequest), typeof(Capa.Protocol.Responses.ResponseFunctionTool), // read by hand, never written
    ];

    /// <summary>The context of an API area that has its own, by namespace; the rest use <see cref="CapaJsonContext"/>.</summary>
    private static readonly Dictionary<string, System.Text.Json.Serialization.JsonSerializerContext> AreaContexts = new()
    {
        ["Capa.Protocol.Responses"] = Capa.Protocol.Responses.ResponsesJsonContext.Default,
    };

    public static TheoryData<string> WireTypes()
    {
        var data = new TheoryData<string>();
        foreach (var type in typeof(CapaJsonContext).Assembly.GetExportedTypes())
        {
            var isStatic = type.IsAbstract && type.IsSealed;
            if (!isStatic && !NotWireTypes.Contains(type))
            {
                data.Add(type.FullName!);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WireTypes))]
    public void Every_wire_type_has_source_generated_metadata(string typeName)
    {
        // Types reached only through a custom converter are easy to miss; serialization then fails at run time.
        var type = typeof(CapaJsonContext).Assembly.GetType(typeName)!;
        var context = AreaContexts.GetValueOrDefault(type.Namespace ?? string.Empty) ?? CapaJsonContext.Default;
        Assert.NotNull(context.GetTypeInfo(type));
    }

    [Fact]
    public void Names_are_snake_case()
    {
        var json = JsonSerializer.Serialize(
            new ChatCompletionRequest { Model = "m", Messages = [], MaxCompletionTokens = 1, TopP = 1, ParallelToolCalls = true, PromptCacheKey = "k" },
            CapaJsonContext.Default.ChatCompletionRequest);
        Assert.Equal("""{"model":"m","messages":[],"top_p":1,"max_completion_tokens":1,"parallel_tool_calls":true,"prompt_cache_key":"k"}""", json);
    }

    [Fact]
    public void Unknown_members_are_skipped_when_reading()
    {
        var model = JsonSerializer.Deserialize("""{"id":"x","object":"model","created":1,"owned_by":"o","permission":[{"a":1}]}""", CapaJsonContext.Default.ModelInfo)!;
        Assert.Equal("x", model.Id);
    }
}
