using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.Tests.Text;

public sealed class PartialMatchTests
{
    [Theory]
    [InlineData("hello <tool", "<tool_call>", 5)]
    [InlineData("hello <", "<tool_call>", 1)]
    [InlineData("hello", "<tool_call>", 0)]
    [InlineData("<tool_call", "<tool_call>", 10)]

    // A whole pattern is not a partial one: it is found by the caller, not held back.
    [InlineData("x<tool_call>", "<tool_call>", 0)]
    [InlineData("", "<tool_call>", 0)]
    [InlineData("abc", "", 0)]

    // The longest suffix wins, not the first one seen.
    [InlineData("aaa", "aab", 2)]
    public void One_pattern(string text, string pattern, int expected) =>
        Assert.Equal(expected, PartialMatch.SuffixLength(text, pattern));

    [Theory]
    [InlineData("the end. STO", 3)]
    [InlineData("the end. S", 1)]
    [InlineData("the end. \n\nUs", 4)]
    [InlineData("the end.", 0)]
    public void Many_patterns_hold_back_the_longest_partial_suffix(string text, int expected) =>
        Assert.Equal(expected, PartialMatch.SuffixLength(text, ["STOP", "\n\nUser:", "S"]));

    [Theory]
    [InlineData("I do n'", " n'")]
    [InlineData("it 'v", " 'v")]
    [InlineData("we '", " '")]
    [InlineData("yes ", " ")]
    [InlineData("yes", "")]
    public void The_clean_up_tail_is_what_may_still_become_a_clean_up_pattern(string text, string held) =>
        Assert.Equal(held, text[^PartialMatch.SuffixLength(text, HfTokenizer.CleanUpPatterns)..]);
}
