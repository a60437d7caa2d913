using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Tests.Generation;

public sealed class StopSequenceMatcherTests
{
    [Fact]
    public void StopSplitAcrossPieces_IsFoundAndNotEmitted()
    {
        var m = new StopSequenceMatcher(["STOP"]);
        Assert.Equal("Hello ", m.Push("Hello S"));
        Assert.Equal(string.Empty, m.Push("T"));
        Assert.Equal(string.Empty, m.Push("OP and more"));
        Assert.True(m.Stopped);
        Assert.Equal(string.Empty, m.Push("later"));
        Assert.Equal(string.Empty, m.Flush());
    }

    [Fact]
    public void HeldBackText_IsReleasedWhenItDiverges()
    {
        var m = new StopSequenceMatcher(["STOP"]);
        Assert.Equal("a", m.Push("aST"));
        Assert.Equal("STx", m.Push("x"));
        Assert.False(m.Stopped);
    }

    [Fact]
    public void HeldBackText_IsReleasedAtTheEnd()
    {
        var m = new StopSequenceMatcher(["\n\n"]);
        Assert.Equal("line", m.Push("line\n"));
        Assert.Equal("\n", m.Flush());
    }

    [Fact]
    public void EarliestOfSeveralStops_Wins()
    {
        var m = new StopSequenceMatcher(["world", "lo w"]);
        Assert.Equal("Hel", m.Push("Hello world"));
    }

    [Fact]
    public void NoStops_PassesEverythingThrough()
    {
        var m = new StopSequenceMatcher(["", ""]);
        Assert.Equal("abc", m.Push("abc"));
    }

    [Fact]
    public void StopInsideOnePiece_CutsIt()
    {
        var m = new StopSequenceMatcher(["的"]);
        Assert.Equal("中文", m.Push("中文的结束"));
        Assert.True(m.Stopped);
    }

    [Fact]
    public void RandomPieces_MatchTheStringReference()
    {
        // Pieces over a small alphabet so stops, partial stops and stops across pieces all happen.
        string[] alphabet = ["a", "b", "S", "T", "O", "P", "\n", "中", "ST", "OP", "STO", "\n\n", ""];
        var rng = new Random(77);
        for (int run = 0; run < 500; run++)
        {
            string[] stops = run % 5 == 0 ? [] : [.. Enumerable.Range(0, rng.Next(1, 3)).Select(_ => new[] { "STOP", "\n\n", "a中", "PS", "bb" }[rng.Next(5)])];
            var matcher = new StopSequenceMatcher(stops);
            var reference = new ReferenceMatcher(stops);
            for (int step = 0; step < 30; step++)
            {
                string piece = string.Concat(Enumerable.Range(0, rng.Next(0, 4)).Select(_ => alphabet[rng.Next(alphabet.Length)]));
                Assert.Equal(reference.Push(piece), matcher.Push(piece));
                Assert.Equal(reference.Stopped, matcher.Stopped);
            }

            Assert.Equal(reference.Flush(), matcher.Flush());
        }
    }

    [Fact]
    public void PiecesThatCannotStartAStop_PassThroughWithoutAllocating()
    {
        var matcher = new StopSequenceMatcher(["STOP", "\n\n"]);
        string[] pieces = ["Hello", " world", ",", " 中文", "!\nok", "x"];
        foreach (string piece in pieces)
        {
            Assert.Same(piece, matcher.Push(piece));
        }

        long start = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            string piece = pieces[i % pieces.Length];
            if (!ReferenceEquals(piece, matcher.Push(piece)))
            {
                Assert.Fail($"piece {i} was copied");
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - start);
    }

    [Fact]
    public void HeldBackText_AllocatesOnlyTheTextReturned()
    {
        var matcher = new StopSequenceMatcher(["STOP"]);
        string[] pieces = ["aS", "Tb", "xST", "Ox", "yS", "c"];
        foreach (string piece in pieces)
        {
            matcher.Push(piece);
        }

        var returned = new List<string>(1000);
        long start = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            returned.Add(matcher.Push(pieces[i % pieces.Length]));
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - start;
        Assert.False(matcher.Stopped);
        long strings = returned.Where(s => s.Length > 0).Distinct(ReferenceEqualityComparer.Instance).Cast<string>().Sum(s => (22L + (2L * s.Length) + 7) & ~7L);
        Assert.InRange(allocated, 0, strings);
    }

    /// <summary>The matcher as it was written first, on strings: the behaviour the buffered one keeps.</summary>
    private sealed class ReferenceMatcher(string[] stops)
    {
        private readonly string[] _stops = [.. stops.Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal)];
        private string _pending = string.Empty;

        public bool Stopped { get; private set; }

        public string Push(string text)
        {
            if (Stopped)
            {
                return string.Empty;
            }

            _pending += text;
            int first = _stops.Select(s => _pending.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
            if (first >= 0)
            {
                Stopped = true;
                string before = _pending[..first];
                _pending = string.Empty;
                return before;
            }

            int hold = Capa.Tokenizers.Text.PartialMatch.SuffixLength(_pending, _stops);
            string ready = _pending[..^hold];
            _pending = _pending[^hold..];
            return ready;
        }

        public string Flush()
        {
            string rest = Stopped ? string.Empty : _pending;
            _pending = string.Empty;
            return rest;
        }
    }
}
