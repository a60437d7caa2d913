namespace Capa.Templates.Tests.Runtime;

public sealed class RenderErrorTests
{
    [Fact]
    public void Raise_exception_surfaces_the_template_message_exactly()
    {
        var error = Assert.Throws<TemplateException>(() =>
            TemplateTestHelpers.Render("ok\n{% if x %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}", "{\"x\":true}"));
        Assert.Equal(TemplateErrorKind.Raised, error.Kind);
        Assert.Equal("Only user and assistant roles are supported!", error.Message);
        Assert.Equal((2, 14), (error.Line, error.Column));
    }

    [Fact]
    public void Gemma2_refuses_a_system_message_with_its_own_words()
    {
        var error = Assert.Throws<TemplateException>(() => ChatTemplate.Parse(KnownTemplates.Get("gemma2")).Render(
            TemplateTestHelpers.Json("""{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]}""")));
        Assert.Equal(TemplateErrorKind.Raised, error.Kind);
        Assert.Equal("System role not supported", error.Message);
    }

    [Theory]
    [InlineData("{{ missing() }}", "'missing' is undefined")]
    [InlineData("{{ x | nosuchfilter }}", "Unknown filter 'nosuchfilter'")]
    [InlineData("{{ x is nosuchtest }}", "Unknown test 'nosuchtest'")]
    [InlineData("{{ 'a' + none }}", "Cannot apply '+' to none")]
    [InlineData("{{ missing + 1 }}", "undefined")]
    [InlineData("{{ 1 / 0 }}", "Division by zero")]
    [InlineData("{% set a, b = [1] %}", "Too few values to unpack")]
    [InlineData("{% set x = 1 %}{% set x.y = 2 %}", "only namespace() objects take assignments")]
    [InlineData("{% for x in 5 %}{% endfor %}", "Cannot loop over a integer")]
    [InlineData("{{ [1][::0] }}", "Slice step cannot be zero")]
    [InlineData("{{ 3 | trim }}", "cannot be applied to a integer")]
    [InlineData("{% break %}", "outside of a loop")]
    [InlineData("{{ 'x'.split('') }}", "separator is empty")]
    public void Runtime_errors_are_template_exceptions(string template, string fragment)
    {
        var error = Assert.Throws<TemplateException>(() => TemplateTestHelpers.Render(template));
        Assert.Equal(TemplateErrorKind.Runtime, error.Kind);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Runtime_errors_carry_the_position_of_the_failing_expression()
    {
        var error = Assert.Throws<TemplateException>(() => TemplateTestHelpers.Render("line 1\nline 2 {{ 1 + [] }}"));
        Assert.Equal((2, 11), (error.Line, error.Column));
    }

    [Fact]
    public void Deep_recursion_fails_cleanly()
    {
        var error = Assert.Throws<TemplateException>(() =>
            TemplateTestHelpers.Render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"));
        Assert.Contains("too deeply", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Runaway_loops_are_stopped()
    {
        var error = Assert.Throws<TemplateException>(() =>
            TemplateTestHelpers.Render("{% for a in range(10000) %}{% for b in range(200) %}{% endfor %}{% endfor %}"));
        Assert.Contains("loop iterations", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_variable_types_are_argument_errors()
    {
        var template = ChatTemplate.Parse("{{ x }}");
        var error = Assert.Throws<ArgumentException>(() => template.Render(new Dictionary<string, object?> { ["x"] = new Uri("http://x") }));
        Assert.Contains("System.Uri", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => template.Render(null!));
    }
}
