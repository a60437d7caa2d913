using System.Security.Cryptography;
using System.Text;

namespace Capa.Templates.Tests.Known;

public sealed class KnownTemplatesTests
{
    [Fact]
    public void Families_are_the_supported_model_families()
    {
        Assert.Equal(["qwen2.5", "qwen3", "llama3.1", "llama3.2", "smollm2", "phi3.5", "gemma2", "gemma3"], KnownTemplates.Families);
    }

    [Theory]
    [InlineData("qwen2.5", "cd8e9439f0570856fd70470bf8889ebd8b5d1107207f67a5efb46e342330527f")]
    [InlineData("qwen3", "5da44855ab7e0641774d5ed0ff0b4f89671d01df7d316e54d06557a962211cb4")]
    [InlineData("llama3.1", "acdebb44b3f4dcabdaa21c8402a9818216ed608155cac5ffad94e6266d16854c")]
    [InlineData("llama3.2", "5816fce10444e03c2e9ee1ef8a4a1ea61ae7e69e438613f3b17b69d0426223a4")]
    [InlineData("smollm2", "872be49dbb638044ad01b60388f48d469ff2980e5f0dccdc22ec907db54d0788")]
    [InlineData("phi3.5", "78d976a442bcde2f0be15aafbb8e3050e1104f86732266f68403251b89982a90")]
    [InlineData("gemma2", "ecd6ae513fe103f0eb62e8ab5bfa8d0fe45c1074fa398b089c93a7e70c15cfd6")]
    [InlineData("gemma3", "7de1c58e208eda46e9c7f86397df37ec49883aeece39fb961e0a6b24088dd3c4")]
    public void Get_returns_the_published_text_byte_for_byte(string family, string sha256)
    {
        string text = KnownTemplates.Get(family);
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))));
    }

    [Fact]
    public void Get_ignores_case_and_surrounding_spaces()
    {
        Assert.Same(KnownTemplates.Get("qwen2.5"), KnownTemplates.Get(" Qwen2.5 "));
    }

    [RequiresReferenceFact("qwen3-tokenizer/chat_template.jinja")]
    public void Qwen3_matches_the_reference_tokenizer_folder()
    {
        string path = RepositoryPaths.SharedReference("qwen3-tokenizer/chat_template.jinja")!;
        Assert.Equal(File.ReadAllText(path), KnownTemplates.Get("qwen3"));
    }

    [Fact]
    public void Unknown_family_names_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => KnownTemplates.Get("mistral"));
        Assert.Contains("mistral", error.Message, StringComparison.Ordinal);
        Assert.Contains("qwen2.5", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => KnownTemplates.Get(null!));
    }

    [Theory]
    [MemberData(nameof(AllFamilies))]
    public void Every_known_template_parses(string family)
    {
        ChatTemplate template = ChatTemplate.Parse(KnownTemplates.Get(family));
        Assert.Equal(KnownTemplates.Get(family), template.Source);
    }

    public static TheoryData<string> AllFamilies() => [.. KnownTemplates.Families];
}
