using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.Engine.Text.Constraints;
using Capa.Engine.Text.Generation;
using Capa.Models;

namespace Capa.Bench;

/// <summary>
/// Decode speed with and without <c>response_format: json_object</c> on the 0.5b test model, through the whole engine
/// (template, tokenizer, sampler, constraint). Each sampling setting runs in its own process per round, where plain and
/// constrained requests alternate. Where the repository's reference folder is present, the model is given Qwen3's real 151,669-token tokenizer,
/// so the masks cover a real vocabulary rather than the test model's small one.
/// </summary>
internal static class JsonModeBench
{
    private static readonly string[] Settings = ["greedy", "default", "full-vocabulary"];

    private static readonly string[] TokenizerFiles =
        ["vocab.json", "merges.txt", "tokenizer_config.json", "added_tokens.json", "special_tokens_map.json", "chat_template.jinja"];

    public static async Task<int> RunParentAsync(BenchOptions options)
    {
        var baseDir = Path.GetFullPath(Path.Combine(options.ModelsDirectory, "qwen2-0.5b"));
        Parent.EnsureModel(baseDir, options.Quants);
        var reference = Path.GetFullPath(Path.Combine("..", "shared", "reference", "qwen3-tokenizer"));
        var dir = Directory.Exists(reference) ? WithQwen3Tokenizer(baseDir, reference) : baseDir;
        Console.Error.WriteLine($"model folder: {dir}");

        var results = new List<JsonModeMeasurement>();
        for (var round = 0; round < options.Rounds; round++)
        {
            foreach (var quant in options.Quants)
            {
                foreach (var setting in Settings)
                {
                    var output = await Parent.RunAsync(Environment.ProcessPath!, Parent.DotnetArgs("--json-child", dir, quant,
                        options.Threads.ToString(CultureInfo.InvariantCulture), options.DecodeTokens.ToString(CultureInfo.InvariantCulture), setting));
                    foreach (var line in output.Trim().Split('\n').TakeLast(2))
                    {
                        results.Add(JsonSerializer.Deserialize<JsonModeMeasurement>(line)!);
                        Console.Error.WriteLine($"round {round + 1}: {results[^1]}");
                    }
                }
            }
        }

        var report = Report(options, dir, results);
        Console.WriteLine(report);
        File.WriteAllText(options.Output, report);
        return 0;
    }

    /// <summary>Child: one setting, both modes; prints a JSON line for each.</summary>
    public static async Task<int> RunChildAsync(string[] args)
    {
        // args: DIR QUANT THREADS DECODE SETTING
        var dir = args[0];
        var variant = ModelVariants.Parse(args[1]) ?? throw new ArgumentException(args[1]);
        var threads = int.Parse(args[2], CultureInfo.InvariantCulture);
        var decode = int.Parse(args[3], CultureInfo.InvariantCulture);
        var setting = args[4];

        using var model = LocalChatModel.Load(dir, new LocalChatModelOptions
        {
            Variant = variant,
            Decoder = new OnnxDecoderOptions { IntraOpThreads = threads },
            DigestCachePath = Path.Combine(Path.GetDirectoryName(dir)!, "digests.json"),
        });

        var sampling = setting switch
        {
            "greedy" => new SamplingOptions { Temperature = 0 },
            // What a request without sampling parameters gets: OpenAI's temperature and top_p of 1, the model's top_k.
            "default" => new SamplingOptions { Temperature = 1, TopK = model.DefaultTopK },
            "full-vocabulary" => new SamplingOptions { Temperature = 1 },
            _ => throw new ArgumentException($"Unknown setting '{setting}'."),
        };

        // The tutorial's JSON example, through the model's chat template.
        var prompt = model.Tokenize(model.RenderPrompt(new Dictionary<string, object?>
        {
            ["messages"] = new List<object?>
            {
                new Dictionary<string, object?> { ["role"] = "system", ["content"] = "You are a helpful assistant designed to output JSON." },
                new Dictionary<string, object?> { ["role"] = "user", ["content"] = "Now I want you to score the sentence 'I like apples' on a scale of 1 to 10 with output format as:{'score': score}, for example, {'score': 0.5}" },
            },
            ["add_generation_prompt"] = true,
        }));

        var sw = Stopwatch.StartNew();
        var constraint = ConstraintCompiler.For(model).JsonObject();
        var vocabularyMs = sw.Elapsed.TotalMilliseconds;
        var processors = new List<TimedProcessor>();
        Func<int, ILogitsProcessor> factory = _ =>
        {
            var p = new TimedProcessor(new ConstraintLogitsProcessor(constraint.CreateState()));
            processors.Add(p);
            return p;
        };

        // Warm-up without a constraint, so one-time kernel preparation is not measured.
        using (var warm = await model.StartAsync(new GenerationRequest { PromptTokens = prompt, MaxTokens = 4, Seed = 0, Sampling = sampling }))
        {
            await warm.CollectAsync();
        }

        async Task<Run> OneAsync(int seed, bool json)
        {
            using var stream = await model.StartAsync(new GenerationRequest
            {
                PromptTokens = prompt, MaxTokens = decode, Seed = seed, Sampling = sampling, LogitsProcessorFactory = json ? factory : null,
            });
            var clock = Stopwatch.StartNew();
            var text = new StringBuilder();
            double first = 0, last = 0;
            int firstTokens = 0, lastTokens = 0;
            var stopped = false;
            await foreach (var update in stream.ReadAllAsync())
            {
                text.Append(update.Text);
                last = clock.Elapsed.TotalSeconds;
                lastTokens = update.CompletionTokens;
                if (firstTokens == 0)
                {
                    (first, firstTokens) = (last, lastTokens);
                }

                stopped |= update.FinishReason == FinishReason.Stop;
            }

            var valid = true;
            if (json && stopped)
            {
                try
                {
                    using var doc = JsonDocument.Parse(text.ToString());
                    valid = doc.RootElement.ValueKind == JsonValueKind.Object;
                }
                catch (JsonException)
                {
                    valid = false;
                }
            }

            return new Run(lastTokens - firstTokens, last - first, lastTokens, stopped, valid);
        }

        // The first constrained request is the cold one (the constraint's mask cache starts empty). Then plain and
        // constrained requests alternate, seed by seed, until each has `decode` decode tokens: both modes see the same
        // machine conditions.
        var coldRun = await OneAsync(1, json: true);
        var coldSeconds = processors.Sum(p => p.MaskSeconds + p.CheckSeconds);
        var plain = new Totals();
        var constrained = new Totals();
        constrained.Add(coldRun, counted: false);
        for (var seed = 2; (plain.Tokens < decode || constrained.Tokens < decode) && seed < 2 + 64; seed++)
        {
            if (plain.Tokens < decode)
            {
                plain.Add(await OneAsync(seed, json: false), counted: true);
            }

            if (constrained.Tokens < decode)
            {
                constrained.Add(await OneAsync(seed, json: true), counted: true);
            }
        }

        var warmSteps = constrained.Steps - coldRun.Steps;
        Console.WriteLine(JsonSerializer.Serialize(new JsonModeMeasurement(setting, "plain", args[1], plain.Tokens / plain.Seconds, plain.Tokens, plain.Requests,
            plain.Stops, 0, 0, plain.Steps, 0, model.Tokenizer.VocabSize, 0, 0)));
        var m = new JsonModeMeasurement(setting, "json_object", args[1], constrained.Tokens / constrained.Seconds, constrained.Tokens, constrained.Requests,
            constrained.Stops, constrained.Invalid, processors.Sum(p => p.Inner.MasksApplied), constrained.Steps, vocabularyMs, model.Tokenizer.VocabSize,
            coldRun.Steps == 0 ? 0 : coldSeconds * 1e6 / coldRun.Steps,
            warmSteps == 0 ? 0 : (processors.Sum(p => p.MaskSeconds + p.CheckSeconds) - coldSeconds) * 1e6 / warmSteps);
        Console.WriteLine(JsonSerializer.Serialize(m));
        return 0;
    }

    // A sibling folder: the same graph and weights (linked), Qwen3's tokenizer, its end ids in the configs.
    private static string WithQwen3Tokenizer(string baseDir, string reference)
    {
        var dir = baseDir + "-qwen3-tokenizer";
        Directory.CreateDirectory(dir);
        var onnx = Path.Combine(dir, "onnx");
        if (!Directory.Exists(onnx))
        {
            Directory.CreateSymbolicLink(onnx, Path.Combine(baseDir, "onnx"));
        }

        foreach (var name in TokenizerFiles)
        {
            File.Copy(Path.Combine(reference, name), Path.Combine(dir, name), overwrite: true);
        }

        // <|endoftext|> is 151643 and <|im_end|> 151645 in Qwen3's vocabulary.
        foreach (var (name, eos) in new[] { ("config.json", (JsonNode)151645), ("generation_config.json", new JsonArray(151645, 151643)) })
        {
            var node = JsonNode.Parse(File.ReadAllText(Path.Combine(baseDir, name)))!.AsObject();
            node["bos_token_id"] = 151643;
            node["pad_token_id"] = 151643;
            node["eos_token_id"] = eos;
            File.WriteAllText(Path.Combine(dir, name), node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }

        return dir;
    }

    private static string Report(BenchOptions o, string dir, List<JsonModeMeasurement> results)
    {
        static double Median(IEnumerable<double> values)
        {
            var v = values.Order().ToArray();
            return v.Length % 2 == 1 ? v[v.Length / 2] : (v[(v.Length / 2) - 1] + v[v.Length / 2]) / 2;
        }

        static string Range(IEnumerable<double> values)
        {
            var v = values.Order().ToArray();
            return v.Length == 1
                ? v[0].ToString("F2", CultureInfo.InvariantCulture)
                : string.Create(CultureInfo.InvariantCulture, $"{Median(v):F2} ({v[0]:F2}–{v[^1]:F2})");
        }

        var vocab = results.First().VocabSize;
        var sb = new StringBuilder();
        sb.AppendLine("# Decode benchmark: JSON mode");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"`capa testmodel --arch qwen2 --size 0.5b` (random weights) with {(dir.EndsWith("-qwen3-tokenizer", StringComparison.Ordinal) ? "Qwen3's tokenizer" : "its own tokenizer")} " +
            $"({vocab:N0} tokens), the tutorial's JSON prompt through the chat template, {o.DecodeTokens} decode tokens per measurement (seeded requests until reached, after one cold request), " +
            $"{o.Threads} intra-op threads, {Environment.ProcessorCount} cores, {o.Rounds} interleaved rounds, each setting in its own process per round, plain and json_object requests alternating in it. Median (min–max). " +
            $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC with `dotnet run -c Release --project bench/Capa.Bench -- {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}`.");
        sb.AppendLine();
        sb.AppendLine("Settings: `greedy` is temperature 0; `default` is what a request without sampling parameters gets (temperature 1, top_p 1, the model's top_k 20); `full-vocabulary` is temperature 1 without top_k (the sampler needs every allowed token's probability, so every step builds the mask).");
        sb.AppendLine();
        sb.AppendLine("| quant | setting | plain tok/s | json_object tok/s | json / plain | steps that built a mask | constraint µs per step, first request | constraint µs per step, later requests | JSON ended / invalid |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var group in results.GroupBy(r => (r.Quant, r.Setting)))
        {
            var plain = group.Where(r => r.Mode == "plain").ToList();
            var json = group.Where(r => r.Mode == "json_object").ToList();
            var steps = json.Sum(r => r.Tokens);
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {group.Key.Quant} | {group.Key.Setting} | {Range(plain.Select(r => r.DecodeTokPerSec))} | {Range(json.Select(r => r.DecodeTokPerSec))} | " +
                $"{Median(json.Select(r => r.DecodeTokPerSec)) / Median(plain.Select(r => r.DecodeTokPerSec)):P0} | " +
                $"{(double)json.Sum(r => r.Masks) / json.Sum(r => r.Steps):P0} | {Median(json.Select(r => r.ColdConstraintUsPerStep)):F0} | {Median(json.Select(r => r.WarmConstraintUsPerStep)):F0} | {json.Sum(r => r.Stops)} of {json.Sum(r => r.Requests)} / {json.Sum(r => r.Invalid)} |");
        }

        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Building the constraint vocabulary (token trie over {vocab:N0} tokens, once per model): median {Median(results.Where(r => r.Mode == "json_object").Select(r => r.VocabularyMs)):F0} ms.");
        return sb.ToString();
    }
}

/// <summary>One request's figures.</summary>
internal readonly record struct Run(int Tokens, double Seconds, int Steps, bool Stopped, bool Valid);

/// <summary>Figures summed over one mode's requests.</summary>
internal sealed class Totals
{
    public int Tokens { get; private set; }

    public double Seconds { get; private set; }

    public int Steps { get; private set; }

    public int Requests { get; private set; }

    public int Stops { get; private set; }

    public int Invalid { get; private set; }

    /// <summary>Adds a request; only a counted one adds to the decode rate.</summary>
    public void Add(Run run, bool counted)
    {
        if (counted)
        {
            Tokens += run.Tokens;
            Seconds += run.Seconds;
        }

        Steps += run.Steps;
        Requests++;
        Stops += run.Stopped ? 1 : 0;
        Invalid += run.Valid ? 0 : 1;
    }
}

/// <summary>One JSON-mode measurement.</summary>
internal sealed record JsonModeMeasurement(
    string Setting, string Mode, string Quant, double DecodeTokPerSec, int Tokens, int Requests, int Stops, int Invalid,
    int Masks, int Steps, double VocabularyMs, int VocabSize, double ColdConstraintUsPerStep, double WarmConstraintUsPerStep);

/// <summary>Times the constraint's two operations (building masks, checking single tokens) for one choice.</summary>
internal sealed class TimedProcessor(ConstraintLogitsProcessor inner) : ILogitsProcessor
{
    private long _maskTicks;
    private long _checkTicks;

    public ConstraintLogitsProcessor Inner => inner;

    public double MaskSeconds => _maskTicks / (double)Stopwatch.Frequency;

    public double CheckSeconds => _checkTicks / (double)Stopwatch.Frequency;

    public bool CanEnd => inner.CanEnd;

    public bool SupportsTokenCheck => true;

    public void Process(Span<float> logits, IReadOnlyList<int> generated)
    {
        var start = Stopwatch.GetTimestamp();
        inner.Process(logits, generated);
        _maskTicks += Stopwatch.GetTimestamp() - start;
    }

    public bool IsAllowed(int token, IReadOnlyList<int> generated)
    {
        var start = Stopwatch.GetTimestamp();
        var allowed = inner.IsAllowed(token, generated);
        _checkTicks += Stopwatch.GetTimestamp() - start;
        return allowed;
    }
}
