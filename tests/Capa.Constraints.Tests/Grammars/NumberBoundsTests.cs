using System.Globalization;
using System.Text;
using System.Text.Json;
using Capa.Constraints.Grammars;
using Capa.Constraints.Runtime;
using Capa.Constraints.Vocabulary;

namespace Capa.Constraints.Tests.Grammars;

public sealed class NumberBoundsTests
{
    private static ConstraintState State(string numberSchema, TokenVocabulary vocab)
    {
        using JsonDocument doc = JsonDocument.Parse($$"""{"type":"object","properties":{"n":{{numberSchema}}},"required":["n"],"additionalProperties":false}""");
        ConstraintState state = TokenConstraint.Create(JsonGrammar.FromSchema(doc.RootElement), vocab).CreateState();
        foreach (byte b in "{\"n\":"u8)
        {
            state.Advance(b);
        }

        return state;
    }

    private static bool Accepts(ConstraintState start, string number)
    {
        ConstraintState s = start.Clone();
        foreach (byte b in Encoding.ASCII.GetBytes(number + "}"))
        {
            if (!s.TryAdvance(b))
            {
                return false;
            }
        }

        return s.IsComplete;
    }

    [Theory]
    [InlineData("""{"type":"integer","minimum":-3,"maximum":12}""", -3, 12, false, false, true)]
    [InlineData("""{"type":"integer","exclusiveMinimum":-3,"exclusiveMaximum":12}""", -3, 12, true, true, true)]
    [InlineData("""{"type":"number","minimum":0.5,"maximum":2}""", 0.5, 2, false, false, false)]
    [InlineData("""{"type":"number","exclusiveMinimum":-1.25,"maximum":-0.5}""", -1.25, -0.5, true, false, false)]
    [InlineData("""{"type":"integer","minimum":95,"maximum":105}""", 95, 105, false, false, true)]
    public void AcceptsExactlyTheValuesWithinBounds(string schema, double lo, double hi, bool loEx, bool hiEx, bool integer)
    {
        ConstraintState state = State(schema, TestVocabularies.Random(2));
        var candidates = new List<string>();
        for (int i = -200; i <= 200; i++)
        {
            candidates.Add(i.ToString(CultureInfo.InvariantCulture));
            candidates.Add((i / 8.0).ToString("0.###", CultureInfo.InvariantCulture));
        }

        candidates.AddRange(["-0", "1e1", "01", "1.", ".5", "-", "1.0000001", "12.5000", "2.000001", "1000"]);
        foreach (string c in candidates.Distinct())
        {
            bool syntax = System.Text.RegularExpressions.Regex.IsMatch(c, integer ? @"^-?(0|[1-9]\d*)$" : @"^-?(0|[1-9]\d*)(\.\d{1,6})?$");
            bool inBounds = syntax && double.TryParse(c, CultureInfo.InvariantCulture, out double v) && (loEx ? v > lo : v >= lo) && (hiEx ? v < hi : v <= hi);
            Assert.True(inBounds == Accepts(state, c), $"{schema}: {c}");
        }
    }

    [Fact]
    public void UnsatisfiableBoundsAreInvalid()
    {
        using JsonDocument doc = JsonDocument.Parse("""{"type":"object","properties":{"n":{"type":"integer","minimum":1.2,"maximum":1.8}},"required":["n"]}""");
        Assert.Throws<Capa.Constraints.Schema.InvalidSchemaException>(() => JsonGrammar.FromSchema(doc.RootElement));
    }
}
