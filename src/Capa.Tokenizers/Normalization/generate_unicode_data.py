#!/usr/bin/env python3
"""Writes UnicodeNormalizationData.txt, the tables behind UnicodeNormalizer.

The runtime is often built with invariant globalization, where string.Normalize does nothing, so the
decomposition mappings, canonical combining classes and composition exclusions are shipped with the
library. Run with any Python 3; its unicodedata module supplies the Unicode version recorded in the header.

Line formats (hex code points):
  D <cp> <c|k|x> <mapping...>   decomposition; c = canonical, x = canonical but excluded from composition,
                                k = compatibility
  C <cp> <ccc>                  canonical combining class (non-zero only)
"""
import unicodedata

lines = [f"# Unicode {unicodedata.unidata_version}"]
for cp in range(0x110000):
    if 0xD800 <= cp <= 0xDFFF or 0xAC00 <= cp <= 0xD7A3:
        continue  # surrogates; Hangul syllables are decomposed algorithmically
    ch = chr(cp)
    ccc = unicodedata.combining(ch)
    if ccc:
        lines.append(f"C {cp:X} {ccc}")
    d = unicodedata.decomposition(ch)
    if not d:
        continue
    parts = d.split()
    if parts[0].startswith("<"):
        kind = "k"
        parts = parts[1:]
    else:
        kind = "c"
        # A canonical pair is a primary composite unless NFC leaves it decomposed (composition exclusion).
        if len(parts) == 1 or unicodedata.normalize("NFC", ch) != ch:
            kind = "x"
    lines.append(f"D {cp:X} {kind} " + " ".join(parts))

with open("UnicodeNormalizationData.txt", "w", encoding="ascii", newline="\n") as f:
    f.write("\n".join(lines) + "\n")
