using System.Text;
using System.Text.RegularExpressions;
using Capa.Constraints.Grammars;

namespace Capa.Constraints.Tests.Grammars;

public sealed class RegexCompilerTests
{
    [Theory]
    [InlineData("^[A-Z]{3}-\\d{2,4}$")]
    [InlineData("^[a-z0-9]+(?:-[a-z0-9]+)*$")]
    [InlineData("#[0-9a-f]{6}")]
    [InlineData("^\\w+( \\w+)?$")]
    [InlineData("^[^\"\\\\]{0,5}$")]
    [InlineData("^(ab|a)(c|bcd)?$")]
    [InlineData("^a.c$")]
    [InlineData("x*y+z?")]
    [InlineData("^(?<year>\\d{4})-\\d\\d$")]
    [InlineData("^[\\s\\S]{2}$")]
    [InlineData("^[^\\d]+$")]
    [InlineData("^\\S+@\\S+$")]
    [InlineData("^(a|b){2,}?$")]
    [InlineData("^$")]
    public void AgreesWithDotNetRegexOnAsciiAndStaysWithinItElsewhere(string pattern)
    {
        CharDfa dfa = RegexCompiler.Compile(pattern);
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        var rng = new Random(pattern.Length);
        string alphabet = "abcdxyzABCZ0129-_#@ .\"\\\n\t";
        string[] unicode = ["中", "é", "\u00A0", "\u2028", "\u3000"];
        for (int i = 0; i < 3000; i++)
        {
            var sb = new StringBuilder();
            int len = rng.Next(0, 9);
            bool ascii = i % 3 != 0;
            for (int k = 0; k < len; k++)
            {
                sb.Append(ascii || rng.Next(3) > 0 ? alphabet[rng.Next(alphabet.Length)].ToString() : unicode[rng.Next(unicode.Length)]);
            }

            string s = sb.ToString();
            bool ours = dfa.Matches(s);
            bool theirs = regex.IsMatch(s);
            // .NET's '$' also matches before a final newline; ECMA-262's (and ours) does not.
            if (ascii && !s.EndsWith('\n'))
            {
                Assert.True(ours == theirs, $"'{pattern}' on '{Regex.Escape(s)}': ours {ours}, .NET {theirs}");
            }
            else if (ours)
            {
                Assert.True(theirs, $"'{pattern}' accepted '{Regex.Escape(s)}' which .NET rejects");
            }
        }
    }

    [Fact]
    public void SampledMatchesExistForEveryPatternState()
    {
        // Dead states are pruned: from every state some accepting state is reachable.
        CharDfa dfa = RegexCompiler.Compile("^(?:[01]\\d|2[0-3]):[0-5]\\d$");
        Assert.True(dfa.Matches("23:59"));
        Assert.False(dfa.Matches("24:00"));
        for (int s = 0; s < dfa.StateCount; s++)
        {
            bool reaches = dfa.IsAccepting(s);
            var seen = new HashSet<int> { s };
            var queue = new Queue<int>([s]);
            while (queue.Count > 0 && !reaches)
            {
                int x = queue.Dequeue();
                for (int sym = 0; sym < CharDfa.SymbolCount; sym++)
                {
                    int t = dfa.Next(x, sym);
                    if (t >= 0 && seen.Add(t))
                    {
                        reaches |= dfa.IsAccepting(t);
                        queue.Enqueue(t);
                    }
                }
            }

            Assert.True(reaches);
        }
    }

    [Theory]
    [InlineData("a{3,2}")]
    [InlineData("(a")]
    [InlineData("a)")]
    [InlineData("[a")]
    [InlineData("a**+")]
    [InlineData("(?i)a")]
    [InlineData("a{1001}")]
    [InlineData("[z-a]")]
    [InlineData("\\k<x>")]
    public void RefusesWhatItCannotCompile(string pattern) =>
        Assert.Throws<NotSupportedException>(() => RegexCompiler.Compile(pattern));
}
