// Mask cost per decoding step on Qwen3's 151,936-token vocabulary, and schema compile time.
// Usage: dotnet run -c Release --project bench/Capa.Constraints.Bench [-- <output.md>]
// Each scenario replays the same token sequences twice against one TokenConstraint: the first pass is a
// cold cache (a new schema's first request), the second the steady state (later requests, same schema).
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Capa.Constraints.Bench;
using Capa.Constraints.Grammars;
using Capa.Constraints.Runtime;
using Capa.Constraints.Vocabulary;

string repo = AppContext.BaseDirectory;
while (!File.Exists(Path.Combine(repo, "Capa.slnx")))
{
    repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("Run from inside the repository.");
}

string vocabPath = Path.Combine(repo, "..", "shared", "reference", "qwen3-tokenizer", "vocab.json");
if (!File.Exists(vocabPath))
{
    Console.WriteLine($"Skipped: {vocabPath} is absent.");
    return;
}

string output = args.Length > 0 ? args[0] : Path.Combine(repo, "bench", "RESULTS-constraints.md");
var sw = Stopwatch.StartNew();
TokenVocabulary vocab = QwenVocabulary.Load(vocabPath);
double vocabMs = sw.Elapsed.TotalMilliseconds;

const string nestedSchema = """
    {"type":"object","properties":{
      "user":{"type":"object","properties":{"id":{"type":"string","format":"uuid"},"name":{"type":"string"},"age":{"type":["integer","null"],"minimum":0,"maximum":150},
        "tags":{"type":"array","items":{"type":"string","enum":["admin","dev","ops","sales"]},"maxItems":4}},"required":["id","name","age","tags"],"additionalProperties":false},
      "orders":{"type":"array","maxItems":5,"items":{"$ref":"#/$defs/order"}},
      "note":{"anyOf":[{"type":"string","maxLength":80},{"type":"null"}]}},
     "required":["user","orders","note"],"additionalProperties":false,
     "$defs":{"order":{"type":"object","properties":{"sku":{"type":"string","pattern":"^[A-Z]{3}-\\d{4}$"},"qty":{"type":"integer","minimum":1,"maximum":99},
       "price":{"type":"number","minimum":0},"created":{"type":"string","format":"date-time"}},"required":["sku","qty","price","created"],"additionalProperties":false}}}
    """;
JsonElement schema = JsonDocument.Parse(nestedSchema).RootElement.Clone();

// Compile time: median of 50 compilations (after 5 warm-up).
var compileTimes = new List<double>();
for (int i = 0; i < 55; i++)
{
    long t0 = Stopwatch.GetTimestamp();
    _ = JsonGrammar.FromSchema(schema);
    if (i >= 5)
    {
        compileTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
    }
}

var rows = new List<string>();
foreach ((string name, Grammar grammar) in new[] { ("json_object", JsonGrammar.AnyObject()), ("nested schema", JsonGrammar.FromSchema(schema)) })
{
    List<int[]> sequences = [.. Enumerable.Range(0, 6).Select(seed => Walk(TokenConstraint.Create(grammar, vocab), seed))];
    TokenConstraint constraint = TokenConstraint.Create(grammar, vocab);
    foreach (string pass in new[] { "cold", "warm" })
    {
        var masks = new List<double>();
        var cpu = new List<double>();
        using Process self = Process.GetCurrentProcess();
        var checks = new List<double>();
        var mask = new ulong[vocab.MaskWords];
        foreach (int[] sequence in sequences)
        {
            ConstraintState state = constraint.CreateState();
            foreach (int token in sequence)
            {
                TimeSpan cpu0 = self.TotalProcessorTime;
                long t0 = Stopwatch.GetTimestamp();
                state.FillMask(mask);
                masks.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                self.Refresh();
                cpu.Add((self.TotalProcessorTime - cpu0).TotalMicroseconds);
                t0 = Stopwatch.GetTimestamp();
                bool ok = state.IsAllowed(token);
                checks.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                if (!ok)
                {
                    throw new InvalidOperationException("Replay diverged.");
                }

                state.Advance(token);
            }
        }

        rows.Add($"| {name} | {pass} | {masks.Count} | {Pct(masks, 50):F0} | {Pct(masks, 90):F0} | {Pct(masks, 99):F0} | {Pct(cpu, 50):F0} | {Pct(cpu, 99):F0} | {cpu.Max():F0} | {Pct(checks, 50):F1} | {Pct(checks, 99):F1} | {constraint.CachedMasks} ({constraint.CachedBytes / 1024} KB) |");
        Console.WriteLine(rows[^1]);
    }
}

var report = new StringBuilder();
report.AppendLine("# Constrained decoding: mask cost on Qwen3's vocabulary");
report.AppendLine();
report.AppendLine($"Measured {DateTime.UtcNow:yyyy-MM-dd} by `dotnet run -c Release --project bench/Capa.Constraints.Bench` on {Environment.ProcessorCount} logical CPUs ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}).");
report.AppendLine($"Vocabulary: {vocab.Count:N0} ids (Qwen3 vocab.json, byte-level BPE decoded to bytes), trie built in {vocabMs:F0} ms including JSON parsing.");
report.AppendLine();
report.AppendLine("Each scenario replays 6 token sequences (uniform random walks over allowed tokens, then a finisher) through one");
report.AppendLine("`TokenConstraint`: `cold` is the first pass (empty mask cache, a schema's first request), `warm` the second");
report.AppendLine("(steady state for later requests). `FillMask` computes the full 151,936-bit mask; `IsAllowed` is the sampled-token");
report.AppendLine("fast path, which is all most steps need when the model follows the format.");
report.AppendLine();
report.AppendLine("Wall times on a shared, oversubscribed 2-core machine include preemption; process CPU time (all threads,");
report.AppendLine("coarse) is given beside them. Judge by the CPU columns and by ratios.");
report.AppendLine();
report.AppendLine("| grammar | pass | steps | FillMask wall p50 µs | wall p90 µs | wall p99 µs | CPU p50 µs | CPU p99 µs | CPU max µs | IsAllowed p50 µs | IsAllowed p99 µs | cached masks |");
report.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
foreach (string row in rows)
{
    report.AppendLine(row);
}

report.AppendLine();
report.AppendLine($"Load average during the run: {File.ReadAllText("/proc/loadavg").Split(' ')[0]} (2 cores).");
report.AppendLine();
report.AppendLine($"Schema compile (nested schema above: $defs/$ref, anyOf, enum, formats uuid and date-time, a pattern, bounds): median {Pct(compileTimes, 50):F0} µs, p99 {Pct(compileTimes, 99):F0} µs over 50 compilations.");
report.AppendLine();
report.AppendLine("Reading the table: a cold step costs one trie walk per new automaton frame (tens of ms inside a string, where");
report.AppendLine("nearly every token is allowed); afterwards that frame's mask is a cached bit set or id list plus a short walk of");
report.AppendLine("the tokens that leave the frame. Inside a string with length bounds (`note`, maxLength 80, here) every character");
report.AppendLine("count is a new frame: the first request pays a trie walk per step, later requests find them cached (16 MB budget");
report.AppendLine("per constraint). The sampled-token fast path (`IsAllowed`) costs about a microsecond, so a model that follows the");
report.AppendLine("format rarely needs a mask at all.");
report.AppendLine("Decode tokens/s with and without json_object on a real model is an engine benchmark and is not measured here.");
File.WriteAllText(output, report.ToString());
Console.WriteLine(report);

static double Pct(List<double> values, double p)
{
    var sorted = values.Order().ToArray();
    return sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(p / 100 * sorted.Length))];
}

static int[] Walk(TokenConstraint constraint, int seed)
{
    var rng = new Random(seed);
    ConstraintState state = constraint.CreateState();
    TokenVocabulary vocab = constraint.Vocabulary;
    var mask = new ulong[vocab.MaskWords];
    var tokens = new List<int>();
    for (int step = 0; step < 400 && !state.IsFinished; step++)
    {
        state.FillMask(mask);
        var allowed = new List<int>();
        for (int id = 0; id < vocab.Count; id++)
        {
            if ((mask[id >> 6] & (1UL << (id & 63))) != 0)
            {
                allowed.Add(id);
            }
        }

        // Uniform for 60 steps, then prefer end-of-sequence and closing bytes so the sequence completes.
        int pick = allowed[rng.Next(allowed.Count)];
        if (step >= 60)
        {
            int eos = allowed.FirstOrDefault(vocab.IsEndOfSequence, -1);
            pick = eos >= 0 ? eos : allowed.Where(id => vocab.GetBytes(id).Length == 1).OrderBy(id => Closing(vocab.GetBytes(id)[0])).ThenBy(_ => rng.Next()).First();
        }

        tokens.Add(pick);
        state.Advance(pick);
    }

    return [.. tokens];
}

static int Closing(byte b) => b switch
{
    (byte)'"' => 0,
    (byte)'}' or (byte)']' => 1,
    >= (byte)'0' and <= (byte)'9' => 2,
    _ => 3,
};
