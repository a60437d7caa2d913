using Capa.Models.Hub;

namespace Capa.Models.Tests.Hub;

public sealed class HubClientOptionsTests
{
    [Fact]
    public void The_token_never_appears_in_the_options_text()
    {
        var text = new HubClientOptions { Token = "hf_verysecret" }.ToString();

        Assert.DoesNotContain("hf_verysecret", text, StringComparison.Ordinal);
        Assert.Contains("(set)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_are_the_public_hub_without_a_token()
    {
        var options = new HubClientOptions();

        Assert.Equal("https://huggingface.co", options.Endpoint);
        Assert.Null(options.Token);
        Assert.True(options.MaxRetries > 0);
    }
}
