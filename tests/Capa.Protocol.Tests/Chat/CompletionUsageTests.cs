using System.Text.Json;

namespace Capa.Protocol.Tests.Chat;

public class CompletionUsageTests
{
    [Fact]
    public void Create_fills_totals_and_zero_details()
    {
        var usage = CompletionUsage.Create(43, 99, cachedTokens: 5);
        JsonAssert.Equal(
            """
            {"prompt_tokens":43,"completion_tokens":99,"total_tokens":142,
             "prompt_tokens_details":{"cached_tokens":5,"audio_tokens":0},
             "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}
            """,
            JsonSerializer.Serialize(usage, CapaJsonContext.Default.CompletionUsage));
    }

    [Fact]
    public void Minimal_usage_reads()
    {
        var usage = JsonSerializer.Deserialize("""{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}""", CapaJsonContext.Default.CompletionUsage)!;
        Assert.Equal(3, usage.TotalTokens);
        Assert.Null(usage.PromptTokensDetails);
    }
}
