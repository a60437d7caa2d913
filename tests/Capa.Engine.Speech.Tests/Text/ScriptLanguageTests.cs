using Capa.Engine.Speech.Text;

namespace Capa.Engine.Speech.Tests.Text;

public sealed class ScriptLanguageTests
{
    [Theory]
    [InlineData("你好，世界。", "cmn")]
    [InlineData("我喜欢Python编程。", "cmn")]
    [InlineData("Hello world.", "en-us")]
    [InlineData("こんにちは世界", "ja")]
    [InlineData("안녕하세요", "ko")]
    [InlineData("Привет, мир", "ru")]
    [InlineData("The word Привет is Russian.", "en-us")]
    [InlineData("12345", "en-us")]
    public void Chooses_the_language_from_the_writing_system(string text, string expected)
    {
        Assert.Equal(expected, ScriptLanguage.Detect(text, "en-us"));
    }
}
