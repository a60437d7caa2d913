using Capa.Templates.Tests.Known;
using Capa.Templates.Tests.Runtime;

namespace Capa.Templates.Tests.Oracle;

/// <summary>
/// Capa.Templates against @huggingface/jinja on the same inputs: every known template × every conversation, and every
/// construct case. Outputs must be identical; where the oracle fails, Capa must fail too, with the same message when the
/// template raised it.
/// </summary>
public sealed class JinjaOracleTests
{
    /// <summary>
    /// Construct cases where Capa follows Jinja (Python) on purpose and @huggingface/jinja differs or has no such feature.
    /// Keyed by template text; the value says why.
    /// </summary>
    internal static readonly Dictionary<string, string> IntentionalDifferences = new()
    {
        ["{{ 'a' + 'b' }}{{ [1] + [2] }}{{ 'x' * 3 }}"] = "string repetition ('x' * 3) is Python; the reference has no '*' for strings",
        ["{{ 1 < 2 }}{{ 2 <= 1 }}{{ 'a' < 'b' }}{{ 1 == 1.0 }}{{ 'a' != 'b' }}"] = "string ordering ('a' < 'b') is Python; the reference only orders numbers",
        ["{{ ' a '.strip() }}|{{ '\\nab\\n'.lstrip('\\n') }}|{{ 'xxaxx'.rstrip('x') }}|{{ 'a b  c'.split() }}|{{ 'a,b'.split(',') }}"] =
            "strip/lstrip/rstrip(chars) remove only the given characters, as in Python; the reference ignores the argument and strips whitespace",
        ["{{ 'abcb'.find('b') }}{{ 'abcb'.count('b') }}{{ '{}-{}'.format(1, 'x') }}{{ ', '.join(['a', 'b']) }}"] = "str.find/count/format/join are Python methods the reference lacks",
        ["{% for x in xs %}{{ loop.cycle('a','b') }}{% endfor %}"] = "loop.cycle is Jinja; the reference lacks it",
        ["{{ missing | default('d') }}{{ '' | default('e', true) }}{{ '' | d('f') }}{{ 0 | default('g') }}"] = "the 'd' alias of default is Jinja; the reference lacks it",
        ["{{ 2.567 | round(2) }}{{ 2.5 | round }}{{ 'x' | safe }}{{ '<a&b>' | escape }}"] = "round and escape are Jinja filters the reference lacks",
        ["{{ [1,2,3,4,5] | batch(2) | list }}{{ xs | sort(attribute='n') | map(attribute='n') | join }}"] = "batch is a Jinja filter the reference lacks",
        ["{{ 3 is odd }}{{ 4 is even }}{{ x is equalto 1 }}{{ x is eq(1) }}{{ 'a' is in(['a']) }}{{ 6 is divisibleby 3 }}{{ x is not none }}"] =
            "tests with arguments (equalto 1, divisibleby 3) are Jinja; the reference cannot pass test arguments",
        ["{% for x in missing %}x{% endfor %}ok"] = "looping over undefined is an empty loop in Jinja; the reference raises",
        ["{{ xs | length }}{{ 'abc' | length }}{{ d | length }}{{ xs | count }}{{ xs | first }}{{ xs | last }}"] = "the 'count' alias of length is Jinja; the reference lacks it",
        ["{% set xs = [] %}{{ xs.append(1) }}{{ xs }}"] = "list.append is Python; the reference lacks it",
    };

    public static TheoryData<string, string> Pairs() => Conversations.FamilyConversationPairs();

    public static TheoryData<string, string, string> Constructs() => ConstructTests.Cases();

    private static readonly Lazy<Dictionary<string, JinjaOracle.Result>> KnownResults = new(() =>
        JinjaOracle.RenderAll(Conversations.FamilyConversationPairs().Select(row =>
        {
            string family = (string)row[0], conversation = (string)row[1];
            return ($"{family}/{conversation}", KnownTemplates.Get(family), Conversations.VariablesJson(family, conversation));
        })));

    private static readonly Lazy<Dictionary<string, JinjaOracle.Result>> ConstructResults = new(() =>
        JinjaOracle.RenderAll(ConstructTests.Cases().Select(row => ((string)row[0], (string)row[0], (string)row[1]))));

    [OracleTheory]
    [MemberData(nameof(Pairs))]
    public void Known_templates_render_like_huggingface_jinja(string family, string conversation)
    {
        JinjaOracle.Result expected = KnownResults.Value[$"{family}/{conversation}"];
        AssertSame(expected, () => KnownTemplateRenderTests.RenderKnown(family, conversation));
    }

    [OracleTheory]
    [MemberData(nameof(Constructs))]
    public void Constructs_render_like_huggingface_jinja(string template, string variables, string expectedByJinja)
    {
        _ = expectedByJinja;
        if (IntentionalDifferences.ContainsKey(template))
        {
            return;
        }

        JinjaOracle.Result expected = ConstructResults.Value[template];
        AssertSame(expected, () => TemplateTestHelpers.Render(template, variables));
    }

    [OracleTheory]
    [MemberData(nameof(Constructs))]
    public void Listed_differences_are_real(string template, string variables, string expectedByJinja)
    {
        // Keeps the list honest: a construct listed as different must really render differently (or fail) there.
        if (!IntentionalDifferences.ContainsKey(template))
        {
            return;
        }

        JinjaOracle.Result oracle = ConstructResults.Value[template];
        Assert.Equal(expectedByJinja, TemplateTestHelpers.Render(template, variables));
        Assert.True(oracle.Error is not null || oracle.Output != expectedByJinja, $"The reference now agrees on: {template}");
    }

    private static void AssertSame(JinjaOracle.Result expected, Func<string> render)
    {
        if (expected.Error is null)
        {
            Assert.Equal(expected.Output, render());
            return;
        }

        var error = Assert.Throws<TemplateException>(render);
        if (error.Kind == TemplateErrorKind.Raised)
        {
            Assert.Equal(expected.Error, error.Message);
        }
    }
}
