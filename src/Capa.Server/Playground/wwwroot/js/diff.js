// A line diff like Python's difflib.Differ output the tutorial prints: "- " lines only in the first text, "+ " lines
// only in the second, "  " lines in both (a longest common subsequence of lines).

/** [{ sign: ' ' | '-' | '+', line }] turning `a` into `b`, line by line. */
export function lineDiff(a, b) {
  const x = a.split(/\r?\n/);
  const y = b.split(/\r?\n/);
  const n = x.length;
  const m = y.length;
  // Lengths of common subsequences of the suffixes; texts here are short (a few hundred lines at most).
  const table = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i][j] = x[i] === y[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ sign: ' ', line: x[i] });
      i++;
      j++;
    } else if (table[i + 1][j] >= table[i][j + 1]) {
      out.push({ sign: '-', line: x[i++] });
    } else {
      out.push({ sign: '+', line: y[j++] });
    }
  }
  while (i < n) out.push({ sign: '-', line: x[i++] });
  while (j < m) out.push({ sign: '+', line: y[j++] });
  return out;
}
