using System.Globalization;
using System.Text;

namespace Capa.Tokenizers.Normalization;

/// <summary>The four Unicode normalization forms.</summary>
internal enum UnicodeForm
{
    Nfc,
    Nfd,
    Nfkc,
    Nfkd,
}

/// <summary>
/// Unicode normalization (UAX #15) from tables shipped with the library. <see cref="string.Normalize()"/>
/// silently returns its input when the process runs with invariant globalization, which Capa does, so
/// tokenizers that declare an NFC or NFKC normalizer cannot rely on it.
/// </summary>
internal static class UnicodeNormalizer
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Lazy<Tables> Data = new(Tables.Load);

    /// <summary>
    /// Whether <paramref name="codePoint"/> is a starter that canonical normalization leaves as it is and never combines
    /// with what precedes it: text cut just before it normalizes (NFD) piece by piece as it does whole.
    /// </summary>
    public static bool IsStableStarter(int codePoint)
    {
        var tables = Data.Value;
        return tables.CombiningClass(codePoint) == 0 && !tables.Unstable.Contains(codePoint);
    }

    /// <summary>Returns <paramref name="text"/> in the given normalization form.</summary>
    public static string Normalize(string text, UnicodeForm form)
    {
        var tables = Data.Value;
        bool compat = form is UnicodeForm.Nfkc or UnicodeForm.Nfkd;
        bool compose = form is UnicodeForm.Nfc or UnicodeForm.Nfkc;
        if (IsQuickStable(text, tables, compat, compose))
        {
            return text;
        }

        var buffer = new List<int>(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }

            Decompose(cp, compat, tables, buffer);
        }

        CanonicalOrder(buffer, tables);
        if (compose)
        {
            Compose(buffer, tables);
        }

        var sb = new StringBuilder(buffer.Count);
        foreach (int cp in buffer)
        {
            if (cp < 0x10000)
            {
                sb.Append((char)cp);
            }
            else
            {
                sb.Append(char.ConvertFromUtf32(cp));
            }
        }

        return sb.ToString();
    }

    private static bool IsQuickStable(string text, Tables tables, bool compat, bool compose)
    {
        int asciiLimit = compat ? 0xA0 : compose ? 0x300 : 0xC0;
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (cp < asciiLimit)
            {
                continue;
            }

            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }

            if (!compose && cp is >= SBase and < SBase + SCount)
            {
                return false;
            }

            if (tables.Unstable.Contains(cp) || (compat && tables.Compatibility.Contains(cp)))
            {
                return false;
            }
        }

        return true;
    }

    private static void Decompose(int cp, bool compat, Tables tables, List<int> output)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + (s / NCount));
            output.Add(VBase + (s % NCount / TCount));
            if (s % TCount != 0)
            {
                output.Add(TBase + (s % TCount));
            }

            return;
        }

        if (tables.Decompositions.TryGetValue(cp, out var mapping) && (compat || !mapping.Compatibility))
        {
            foreach (int part in mapping.CodePoints)
            {
                Decompose(part, compat, tables, output);
            }

            return;
        }

        output.Add(cp);
    }

    private static void CanonicalOrder(List<int> cps, Tables tables)
    {
        // Insertion sort by combining class within each run of non-starters (stable, runs are short).
        for (int i = 1; i < cps.Count; i++)
        {
            int ccc = tables.CombiningClass(cps[i]);
            if (ccc == 0)
            {
                continue;
            }

            int j = i;
            while (j > 0)
            {
                int previous = tables.CombiningClass(cps[j - 1]);
                if (previous <= ccc)
                {
                    break;
                }

                (cps[j - 1], cps[j]) = (cps[j], cps[j - 1]);
                j--;
            }
        }
    }

    private static void Compose(List<int> cps, Tables tables)
    {
        if (cps.Count == 0)
        {
            return;
        }

        int starterIndex = tables.CombiningClass(cps[0]) == 0 ? 0 : -1;
        int lastClass = starterIndex == 0 ? 0 : 256;
        int write = 1;
        for (int read = 1; read < cps.Count; read++)
        {
            int cp = cps[read];
            int ccc = tables.CombiningClass(cp);
            bool blocked = starterIndex < 0 || (lastClass != 0 && lastClass >= ccc) || (lastClass == 0 && write != starterIndex + 1);
            if (!blocked && TryCompose(cps[starterIndex], cp, tables, out int composite))
            {
                cps[starterIndex] = composite;
                continue;
            }

            if (ccc == 0)
            {
                starterIndex = write;
            }

            lastClass = ccc;
            cps[write++] = cp;
        }

        cps.RemoveRange(write, cps.Count - write);
    }

    private static bool TryCompose(int first, int second, Tables tables, out int composite)
    {
        if (first is >= LBase and < LBase + LCount && second is >= VBase and < VBase + VCount)
        {
            composite = SBase + ((((first - LBase) * VCount) + (second - VBase)) * TCount);
            return true;
        }

        if (first is >= SBase and < SBase + SCount && (first - SBase) % TCount == 0 && second is > TBase and < TBase + TCount)
        {
            composite = first + (second - TBase);
            return true;
        }

        return tables.Compositions.TryGetValue(((long)first << 21) | (uint)second, out composite);
    }

    private sealed class Tables
    {
        public Dictionary<int, (bool Compatibility, int[] CodePoints)> Decompositions { get; } = [];

        public Dictionary<int, byte> Classes { get; } = [];

        public Dictionary<long, int> Compositions { get; } = [];

        /// <summary>Code points that may change under canonical normalization (non-starters, decomposables, composition seconds).</summary>
        public HashSet<int> Unstable { get; } = [];

        /// <summary>Code points with a compatibility decomposition.</summary>
        public HashSet<int> Compatibility { get; } = [];

        public int CombiningClass(int cp) => cp < 0x300 ? 0 : Classes.TryGetValue(cp, out byte ccc) ? ccc : 0;

        public static Tables Load()
        {
            var tables = new Tables();
            using var stream = typeof(UnicodeNormalizer).Assembly.GetManifestResourceStream("Capa.Tokenizers.UnicodeNormalizationData.txt")
                ?? throw new InvalidOperationException("The Unicode normalization tables are missing from the assembly.");
            using var reader = new StreamReader(stream, Encoding.ASCII);
            while (reader.ReadLine() is { } line)
            {
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                string[] parts = line.Split(' ');
                int cp = int.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (parts[0] == "C")
                {
                    tables.Classes[cp] = byte.Parse(parts[2], CultureInfo.InvariantCulture);
                    tables.Unstable.Add(cp);
                    continue;
                }

                var mapping = new int[parts.Length - 3];
                for (int i = 0; i < mapping.Length; i++)
                {
                    mapping[i] = int.Parse(parts[i + 3], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                }

                bool compatibility = parts[2] == "k";
                tables.Decompositions[cp] = (compatibility, mapping);
                if (compatibility)
                {
                    tables.Compatibility.Add(cp);
                }
                else
                {
                    tables.Unstable.Add(cp);
                    if (parts[2] == "c" && mapping.Length == 2)
                    {
                        tables.Compositions[((long)mapping[0] << 21) | (uint)mapping[1]] = cp;
                        tables.Unstable.Add(mapping[1]);
                    }
                }
            }

            for (int cp = VBase; cp < VBase + VCount; cp++)
            {
                tables.Unstable.Add(cp);
            }

            for (int cp = TBase + 1; cp < TBase + TCount; cp++)
            {
                tables.Unstable.Add(cp);
            }

            return tables;
        }
    }
}
