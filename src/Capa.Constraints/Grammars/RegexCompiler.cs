namespace Capa.Constraints.Grammars;

/// <summary>
/// Compiles the portable subset of ECMA-262 / .NET regular expressions to a <see cref="CharDfa"/>:
/// literals, <c>.</c>, classes with ranges and negation, <c>\d \w \s</c> and their negations, groups
/// (capturing, <c>(?:)</c>, named), alternation, the quantifiers <c>* + ? {n} {n,} {n,m}</c> (lazy forms
/// accepted: they do not change which strings match), <c>^</c> at the start and <c>$</c> at the end.
/// JSON schema patterns are unanchored searches; missing anchors become "any text" on that side.
/// Everything else (look-around, back-references, <c>\b</c>, Unicode properties, non-ASCII literals)
/// raises <see cref="NotSupportedException"/>. Where engines disagree (\w, \d, \s on non-ASCII), the
/// automaton keeps to the characters every engine agrees on.
/// </summary>
internal static class RegexCompiler
{
    private const int MaxNfaStates = 20_000;
    private const int MaxDfaStates = 4_000;

    private const int MaxCachedPatterns = 512;

    // Formats and common patterns recur across schemas; automata are immutable, so they are shared.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, CharDfa> Cache = new(StringComparer.Ordinal);

    public static CharDfa Compile(string pattern)
    {
        if (Cache.TryGetValue(pattern, out CharDfa? cached))
        {
            return cached;
        }

        CharDfa dfa = CompileUncached(pattern);
        if (Cache.Count < MaxCachedPatterns)
        {
            Cache.TryAdd(pattern, dfa);
        }

        return dfa;
    }

    private static CharDfa CompileUncached(string pattern)
    {
        var parser = new Parser(pattern);
        (Ast body, bool anchoredStart, bool anchoredEnd) = parser.ParseTop();
        var anyText = new Ast.Repeat(new Ast.Set(SymbolSet.All()), 0, -1);
        var parts = new List<Ast>();
        if (!anchoredStart)
        {
            parts.Add(anyText);
        }

        parts.Add(body);
        if (!anchoredEnd)
        {
            parts.Add(anyText);
        }

        var nfa = new Nfa();
        (int start, int end) = nfa.Build(new Ast.Concat(parts));
        return nfa.ToDfa(start, end);
    }

    private abstract record Ast
    {
        public sealed record Set(bool[] Symbols) : Ast;

        public sealed record Concat(List<Ast> Items) : Ast;

        public sealed record Alt(List<Ast> Items) : Ast;

        /// <summary>Max -1 means unbounded.</summary>
        public sealed record Repeat(Ast Item, int Min, int Max) : Ast;
    }

    private static class SymbolSet
    {
        public static bool[] All()
        {
            var s = new bool[CharDfa.SymbolCount];
            Array.Fill(s, true);
            return s;
        }

        public static bool[] Of(params int[] symbols)
        {
            var s = new bool[CharDfa.SymbolCount];
            foreach (int x in symbols)
            {
                s[x] = true;
            }

            return s;
        }

        public static bool[] Range(int lo, int hi)
        {
            var s = new bool[CharDfa.SymbolCount];
            for (int c = lo; c <= hi; c++)
            {
                s[c] = true;
            }

            return s;
        }
    }

    private sealed class Parser(string pattern)
    {
        private int _pos;

        private NotSupportedException Error(string what) =>
            new($"{what} (at offset {_pos} of pattern '{pattern}') is not supported");

        public (Ast Body, bool AnchoredStart, bool AnchoredEnd) ParseTop()
        {
            bool start = false;
            bool end = false;
            int limit = pattern.Length;
            if (pattern.StartsWith('^'))
            {
                start = true;
                _pos = 1;
            }

            if (limit > _pos && pattern[limit - 1] == '$' && !IsEscaped(limit - 1))
            {
                end = true;
                limit--;
            }

            Ast body = ParseAlt(limit);
            if (_pos != limit)
            {
                throw Error(pattern[_pos] == ')' ? "An unbalanced ')'" : $"'{pattern[_pos]}'");
            }

            return (body, start, end);
        }

        private bool IsEscaped(int index)
        {
            int backslashes = 0;
            for (int i = index - 1; i >= 0 && pattern[i] == '\\'; i--)
            {
                backslashes++;
            }

            return backslashes % 2 == 1;
        }

        private Ast ParseAlt(int limit)
        {
            var items = new List<Ast> { ParseConcat(limit) };
            while (_pos < limit && pattern[_pos] == '|')
            {
                _pos++;
                items.Add(ParseConcat(limit));
            }

            return items.Count == 1 ? items[0] : new Ast.Alt(items);
        }

        private Ast ParseConcat(int limit)
        {
            var items = new List<Ast>();
            while (_pos < limit && pattern[_pos] != '|' && pattern[_pos] != ')')
            {
                Ast atom = ParseAtom(limit);
                items.Add(ParseQuantifiers(atom, limit));
            }

            return new Ast.Concat(items);
        }

        private Ast ParseQuantifiers(Ast atom, int limit)
        {
            while (_pos < limit)
            {
                char c = pattern[_pos];
                int min;
                int max;
                if (c == '*')
                {
                    (min, max) = (0, -1);
                    _pos++;
                }
                else if (c == '+')
                {
                    (min, max) = (1, -1);
                    _pos++;
                }
                else if (c == '?')
                {
                    (min, max) = (0, 1);
                    _pos++;
                }
                else if (c == '{' && TryParseBraces(limit, out min, out max))
                {
                }
                else
                {
                    break;
                }

                if (_pos < limit && pattern[_pos] == '?')
                {
                    _pos++;
                }

                if (_pos < limit && pattern[_pos] == '+')
                {
                    throw Error("A possessive quantifier");
                }

                if (min > 1000 || max > 1000)
                {
                    throw Error("A repetition count above 1000");
                }

                atom = new Ast.Repeat(atom, min, max);
            }

            return atom;
        }

        private bool TryParseBraces(int limit, out int min, out int max)
        {
            min = max = 0;
            int close = pattern.IndexOf('}', _pos);
            if (close < 0 || close >= limit)
            {
                return false;
            }

            string inner = pattern[(_pos + 1)..close];
            string[] parts = inner.Split(',');
            if (parts.Length > 2 || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out min))
            {
                return false;
            }

            if (parts.Length == 1)
            {
                max = min;
            }
            else if (parts[1].Length == 0)
            {
                max = -1;
            }
            else if (!int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out max) || max < min)
            {
                throw Error($"The quantifier '{{{inner}}}'");
            }

            _pos = close + 1;
            return true;
        }

        private Ast ParseAtom(int limit)
        {
            char c = pattern[_pos];
            switch (c)
            {
                case '(':
                    _pos++;
                    if (_pos < limit && pattern[_pos] == '?')
                    {
                        if (_pos + 1 < limit && pattern[_pos + 1] == ':')
                        {
                            _pos += 2;
                        }
                        else if (_pos + 1 < limit && pattern[_pos + 1] == '<' && _pos + 2 < limit && char.IsLetter(pattern[_pos + 2]))
                        {
                            int close = pattern.IndexOf('>', _pos);
                            if (close < 0)
                            {
                                throw Error("An unterminated group name");
                            }

                            _pos = close + 1;
                        }
                        else
                        {
                            throw Error("The group construct '(?'");
                        }
                    }

                    Ast inner = ParseAlt(limit);
                    if (_pos >= limit || pattern[_pos] != ')')
                    {
                        throw Error("An unterminated group");
                    }

                    _pos++;
                    return inner;
                case '[':
                    return ParseClass(limit);
                case '.':
                    _pos++;
                    {
                        bool[] s = SymbolSet.All();
                        s['\n'] = s['\r'] = s[CharDfa.LineSeparator] = false;
                        return new Ast.Set(s);
                    }

                case '\\':
                    return new Ast.Set(ParseEscape(limit, inClass: false));
                case '^':
                    throw Error("'^' other than at the start");
                case '$':
                    throw Error("'$' other than at the end");
                case '*' or '+' or '?':
                    throw Error($"A quantifier '{c}' with nothing to repeat");
                case '{' when TryPeekBraces(limit):
                    throw Error("A quantifier '{' with nothing to repeat");
                default:
                    if (c >= 0x80)
                    {
                        throw Error("A non-ASCII character");
                    }

                    _pos++;
                    return new Ast.Set(SymbolSet.Of(c));
            }
        }

        private bool TryPeekBraces(int limit)
        {
            int save = _pos;
            bool ok = TryParseBraces(limit, out _, out _);
            _pos = save;
            return ok;
        }

        private bool[] ParseEscape(int limit, bool inClass)
        {
            _pos++;
            if (_pos >= limit)
            {
                throw Error("A trailing backslash");
            }

            char e = pattern[_pos++];
            bool[] ascii(Func<int, bool> f)
            {
                var s = new bool[CharDfa.SymbolCount];
                for (int i = 0; i < 128; i++)
                {
                    s[i] = f(i);
                }

                return s;
            }

            static bool IsWord(int c) => char.IsAsciiLetterOrDigit((char)c) || c == '_';
            static bool IsSpace(int c) => c is ' ' or '\t' or '\n' or '\r' or '\v' or '\f';
            switch (e)
            {
                case 'd':
                    return ascii(c => char.IsAsciiDigit((char)c));
                case 'D':
                    return ascii(c => !char.IsAsciiDigit((char)c));
                case 'w':
                    return ascii(IsWord);
                case 'W':
                    return ascii(c => !IsWord(c));
                case 's':
                    return ascii(IsSpace);
                case 'S':
                    {
                        bool[] s = ascii(c => !IsSpace(c));
                        s[CharDfa.NonAscii] = true;
                        return s;
                    }

                case 'n':
                    return SymbolSet.Of('\n');
                case 'r':
                    return SymbolSet.Of('\r');
                case 't':
                    return SymbolSet.Of('\t');
                case 'f':
                    return SymbolSet.Of('\f');
                case 'v':
                    return SymbolSet.Of('\v');
                case 'x':
                case 'u':
                    {
                        int digits = e == 'x' ? 2 : 4;
                        if (_pos + digits > limit || !int.TryParse(pattern.AsSpan(_pos, digits), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out int cp))
                        {
                            throw Error($"The escape '\\{e}'");
                        }

                        _pos += digits;
                        if (cp >= 0x80)
                        {
                            throw Error("A non-ASCII character escape");
                        }

                        return SymbolSet.Of(cp);
                    }

                case 'b' when inClass:
                    return SymbolSet.Of(0x08);
                default:
                    if (!char.IsAsciiLetterOrDigit(e) && e < 0x80)
                    {
                        return SymbolSet.Of(e);
                    }

                    throw Error($"The escape '\\{e}'");
            }
        }

        private Ast ParseClass(int limit)
        {
            _pos++;
            bool negate = false;
            if (_pos < limit && pattern[_pos] == '^')
            {
                negate = true;
                _pos++;
            }

            var set = new bool[CharDfa.SymbolCount];
            bool shorthand = false;
            bool first = true;
            while (true)
            {
                if (_pos >= limit)
                {
                    throw Error("An unterminated character class");
                }

                char c = pattern[_pos];
                if (c == ']' && !first)
                {
                    _pos++;
                    break;
                }

                first = false;
                bool[] item;
                int single = -1;
                if (c == '\\')
                {
                    char next = _pos + 1 < limit ? pattern[_pos + 1] : '\0';
                    shorthand |= next is 'd' or 'D' or 'w' or 'W' or 's' or 'S';
                    item = ParseEscape(limit, inClass: true);
                    if (item.Count(x => x) == 1)
                    {
                        single = Array.IndexOf(item, true);
                    }
                }
                else if (c == '[' && _pos + 1 < limit && pattern[_pos + 1] is ':' or '=' or '.')
                {
                    throw Error("A POSIX class");
                }
                else
                {
                    if (c >= 0x80)
                    {
                        throw Error("A non-ASCII character");
                    }

                    _pos++;
                    single = c;
                    item = SymbolSet.Of(c);
                }

                if (single >= 0 && single < 128 && _pos + 1 < limit && pattern[_pos] == '-' && pattern[_pos + 1] != ']')
                {
                    _pos++;
                    int hi;
                    if (pattern[_pos] == '\\')
                    {
                        bool[] h = ParseEscape(limit, inClass: true);
                        if (h.Count(x => x) != 1 || Array.IndexOf(h, true) >= 128)
                        {
                            throw Error("A class range ending in a class");
                        }

                        hi = Array.IndexOf(h, true);
                    }
                    else
                    {
                        hi = pattern[_pos++];
                        if (hi >= 0x80)
                        {
                            throw Error("A non-ASCII character");
                        }
                    }

                    if (hi < single)
                    {
                        throw Error("A reversed class range");
                    }

                    item = SymbolSet.Range(single, hi);
                }

                for (int i = 0; i < set.Length; i++)
                {
                    set[i] |= item[i];
                }
            }

            if (negate)
            {
                for (int i = 0; i < set.Length; i++)
                {
                    set[i] = !set[i];
                }

                if (shorthand)
                {
                    // [^\d] and friends: engines disagree on non-ASCII digits, letters and spaces.
                    set[CharDfa.NonAscii] = set[CharDfa.NonAsciiSpace] = set[CharDfa.LineSeparator] = false;
                }
            }

            return new Ast.Set(set);
        }
    }

    private sealed class Nfa
    {
        // Per state: epsilon targets, and at most one symbol-set transition.
        private readonly List<List<int>> _epsilon = [];
        private readonly List<bool[]?> _set = [];
        private readonly List<int> _setTarget = [];

        private int NewState()
        {
            if (_epsilon.Count >= MaxNfaStates)
            {
                throw new NotSupportedException("A pattern this large is not supported");
            }

            _epsilon.Add([]);
            _set.Add(null);
            _setTarget.Add(-1);
            return _epsilon.Count - 1;
        }

        public (int Start, int End) Build(Ast ast)
        {
            switch (ast)
            {
                case Ast.Set s:
                    {
                        int a = NewState();
                        int b = NewState();
                        _set[a] = s.Symbols;
                        _setTarget[a] = b;
                        return (a, b);
                    }

                case Ast.Concat c:
                    {
                        int start = NewState();
                        int cur = start;
                        foreach (Ast item in c.Items)
                        {
                            (int s, int e) = Build(item);
                            _epsilon[cur].Add(s);
                            cur = e;
                        }

                        return (start, cur);
                    }

                case Ast.Alt alt:
                    {
                        int start = NewState();
                        int end = NewState();
                        foreach (Ast item in alt.Items)
                        {
                            (int s, int e) = Build(item);
                            _epsilon[start].Add(s);
                            _epsilon[e].Add(end);
                        }

                        return (start, end);
                    }

                case Ast.Repeat r:
                    {
                        int start = NewState();
                        int cur = start;
                        for (int i = 0; i < r.Min; i++)
                        {
                            (int s, int e) = Build(r.Item);
                            _epsilon[cur].Add(s);
                            cur = e;
                        }

                        if (r.Max < 0)
                        {
                            (int s, int e) = Build(r.Item);
                            int end = NewState();
                            _epsilon[cur].Add(s);
                            _epsilon[cur].Add(end);
                            _epsilon[e].Add(s);
                            _epsilon[e].Add(end);
                            return (start, end);
                        }

                        int last = NewState();
                        _epsilon[cur].Add(last);
                        for (int i = r.Min; i < r.Max; i++)
                        {
                            (int s, int e) = Build(r.Item);
                            _epsilon[cur].Add(s);
                            _epsilon[e].Add(last);
                            cur = e;
                        }

                        return (start, last);
                    }

                default:
                    throw new InvalidOperationException("Unknown regex node.");
            }
        }

        private SortedSet<int> Closure(IEnumerable<int> states)
        {
            var result = new SortedSet<int>();
            var stack = new Stack<int>(states);
            while (stack.Count > 0)
            {
                int s = stack.Pop();
                if (result.Add(s))
                {
                    foreach (int t in _epsilon[s])
                    {
                        stack.Push(t);
                    }
                }
            }

            return result;
        }

        public CharDfa ToDfa(int start, int end)
        {
            var ids = new Dictionary<string, int>();
            var sets = new List<SortedSet<int>>();
            var transitions = new List<int[]>();
            int Intern(SortedSet<int> set)
            {
                string key = string.Join(',', set);
                if (!ids.TryGetValue(key, out int id))
                {
                    if (sets.Count >= MaxDfaStates)
                    {
                        throw new NotSupportedException("A pattern with this many automaton states is not supported");
                    }

                    id = sets.Count;
                    ids[key] = id;
                    sets.Add(set);
                    transitions.Add(new int[CharDfa.SymbolCount]);
                }

                return id;
            }

            Intern(Closure([start]));
            for (int i = 0; i < sets.Count; i++)
            {
                for (int sym = 0; sym < CharDfa.SymbolCount; sym++)
                {
                    var targets = new List<int>();
                    foreach (int s in sets[i])
                    {
                        if (_set[s] is { } symbols && symbols[sym])
                        {
                            targets.Add(_setTarget[s]);
                        }
                    }

                    transitions[i][sym] = targets.Count == 0 ? -1 : Intern(Closure(targets));
                }
            }

            int n = sets.Count;
            var accepting = new bool[n];
            for (int i = 0; i < n; i++)
            {
                accepting[i] = sets[i].Contains(end);
            }

            // Keep only states from which acceptance is reachable, so every admitted prefix can finish.
            var live = (bool[])accepting.Clone();
            bool changed = true;
            while (changed)
            {
                changed = false;
                for (int i = 0; i < n; i++)
                {
                    if (!live[i] && transitions[i].Any(t => t >= 0 && live[t]))
                    {
                        live[i] = changed = true;
                    }
                }
            }

            if (!live[0])
            {
                throw new NotSupportedException("A pattern that matches no string is not supported");
            }

            var map = new int[n];
            int count = 0;
            for (int i = 0; i < n; i++)
            {
                map[i] = live[i] ? count++ : -1;
            }

            var next = new int[count * CharDfa.SymbolCount];
            var acc = new bool[count];
            for (int i = 0; i < n; i++)
            {
                if (map[i] < 0)
                {
                    continue;
                }

                acc[map[i]] = accepting[i];
                for (int sym = 0; sym < CharDfa.SymbolCount; sym++)
                {
                    int t = transitions[i][sym];
                    next[(map[i] * CharDfa.SymbolCount) + sym] = t >= 0 ? map[t] : -1;
                }
            }

            return new CharDfa(next, acc, map[0]);
        }
    }
}
