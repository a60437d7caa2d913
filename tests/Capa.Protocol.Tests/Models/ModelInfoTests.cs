using System.Text.Json;

namespace Capa.Protocol.Tests.Models;

public class ModelInfoTests
{
    [Fact]
    public void Model_and_list_match_the_spec()
    {
        var list = new ModelList
        {
            Data =
            [
                new ModelInfo { Id = "qwen2.5-0.5b-instruct", Created = 1686935002, OwnedBy = "capa" },
                new ModelInfo { Id = "gpt-4o", Created = 1, OwnedBy = "openai" },
            ],
        };

        JsonAssert.Equal(
            """
            {"object":"list","data":[
              {"id":"qwen2.5-0.5b-instruct","object":"model","created":1686935002,"owned_by":"capa"},
              {"id":"gpt-4o","object":"model","created":1,"owned_by":"openai"}]}
            """,
            JsonSerializer.Serialize(list, CapaJsonContext.Default.ModelList));
    }

    [Fact]
    public void Capabilities_are_written_when_known_and_left_out_otherwise()
    {
        var known = new ModelInfo { Id = "capa-tiny", Created = 1, OwnedBy = "capa", Capabilities = ["chat", "json"] };

        JsonAssert.Equal(
            """{"id":"capa-tiny","object":"model","created":1,"owned_by":"capa","capabilities":["chat","json"]}""",
            JsonSerializer.Serialize(known, CapaJsonContext.Default.ModelInfo));
        Assert.DoesNotContain(
            "capabilities",
            JsonSerializer.Serialize(new ModelInfo { Id = "x", Created = 1, OwnedBy = "o" }, CapaJsonContext.Default.ModelInfo),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Spec_example_reads()
    {
        var model = JsonSerializer.Deserialize(
            """{"id":"VAR_chat_model_id","object":"model","created":1686935002,"owned_by":"openai","shutdown_date":"2026-10-23"}""",
            CapaJsonContext.Default.ModelInfo)!;
        Assert.Equal("VAR_chat_model_id", model.Id);
        Assert.Equal("openai", model.OwnedBy);
    }
}
