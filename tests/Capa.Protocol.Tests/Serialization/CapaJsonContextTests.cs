using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol.Tests.Serialization;

public class CapaJsonContextTests
{
    /// <summary>Public types that are not wire types.</summary>
    private static readonly Type[] NotWireTypes =
    [
        typeof(ApiError), typeof(SseEventParser), typeof(SseEvent), typeof(ChatRequestLimits), typeof(CapaJsonContext),
        typeof(ToolChoiceMode), // in-memory only: ToolChoice writes its own wire form
        typeof(TranscriptionRequest), typeof(TranscriptionResponseFormat), // read from multipart forms, never JSON
        typeof(Capa.Protocol.Responses.CreateResponseRequest), typeof(Capa.Protocol.Responses.ResponseFunctionTool), // read by hand, never written
        typeof(Capa.Protocol.Assistants.AssistantRequest), typeof(Capa.Protocol.Assistants.ThreadRequest), typeof(Capa.Protocol.Assistants.MessageRequest),
        typeof(Capa.Protocol.Assistants.RunRequest), typeof(Capa.Protocol.Assistants.SubmitToolOutputsRequest), typeof(Capa.Protocol.Assistants.ToolOutput), // read by hand, never written
        typeof(Capa.Protocol.Images.ImageGenerationRequest), typeof(Capa.Protocol.Images.ImageEditRequest), typeof(Capa.Protocol.Images.ImageUpload), // read by hand or from forms
        typeof(Capa.Protocol.Images.ImageModelFamily), typeof(Capa.Protocol.Images.ImageResponseFormat), typeof(Capa.Protocol.Images.ImageFileKind), // in-memory only
        typeof(NumberRange), // the sampling ranges' bounds, never on the wire
    ];

    /// <summary>Every source-generated context of the assembly: <see cref="CapaJsonContext"/> and one per API area.</summary>
    private static readonly JsonSerializerContext[] Contexts = [.. typeof(CapaJsonContext).Assembly.GetExportedTypes()
        .Where(t => t.IsSubclassOf(typeof(JsonSerializerContext)) && !t.IsAbstract)
        .Select(t => (JsonSerializerContext)t.GetProperty("Default")!.GetValue(null)!)];

    public static TheoryData<string> WireTypes()
    {
        var data = new TheoryData<string>();
        foreach (var type in typeof(CapaJsonContext).Assembly.GetExportedTypes())
        {
            var isStatic = type.IsAbstract && type.IsSealed;
            if (!isStatic && !NotWireTypes.Contains(type) && !type.IsSubclassOf(typeof(JsonSerializerContext)))
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
        // Each API area has its own context, so a type needs metadata in one of them.
        var type = typeof(CapaJsonContext).Assembly.GetType(typeName)!;
        Assert.Contains(Contexts, context => context.GetTypeInfo(type) is not null);
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
