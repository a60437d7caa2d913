namespace Capa.Templates.Tests.Syntax;

public sealed class ParseErrorTests
{
    [Theory]
    [InlineData("{% if x %}open", 1, 1, "not closed")]
    [InlineData("line one\n{% for x in %}{% endfor %}", 2, 13, "Unexpected '%}'")]
    [InlineData("a\nb\n  {{ x | }}", 3, 10, "filter name")]
    [InlineData("{{ 'unterminated }}", 1, 4, "Unterminated string")]
    [InlineData("{% frobnicate %}", 1, 4, "Unknown statement 'frobnicate'")]
    [InlineData("{{ x ]] }}", 1, 6, "Expected '}}'")]
    [InlineData("{{ f(a=1, 2) }}", 1, 11, "Positional arguments must come before keyword arguments")]
    [InlineData("{# never closed", 1, 1, "Missing end of comment")]
    [InlineData("{% set 1 = 2 %}", 1, 8, "Cannot assign")]
    [InlineData("{{ x ? y }}", 1, 6, "Unexpected character '?'")]
    [InlineData("{% if x %}a{% else %}b{% endfor %}", 1, 26, "needs '{% endif %}' first")]
    [InlineData("x{% endif %}", 1, 5, "with no open block")]
    public void Syntax_errors_name_the_problem_and_its_position(string template, int line, int column, string fragment)
    {
        var error = Assert.Throws<TemplateException>(() => ChatTemplate.Parse(template));
        Assert.Equal(TemplateErrorKind.Syntax, error.Kind);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.EndsWith($"(line {line}, column {column})", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Positions_count_the_whitespace_that_lstrip_and_trim_remove()
    {
        // The spaces before the tag and the newline after the first tag are removed before lexing; the column must not shift.
        var error = Assert.Throws<TemplateException>(() => ChatTemplate.Parse("{% if a %}\n    {% if %}{% endif %}{% endif %}"));
        Assert.Equal((2, 11), (error.Line, error.Column));
    }

    [Fact]
    public void Null_source_is_an_argument_error()
    {
        Assert.Throws<ArgumentNullException>(() => ChatTemplate.Parse(null!));
    }
}
