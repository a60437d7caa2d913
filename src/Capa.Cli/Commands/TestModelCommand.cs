using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Capa.TestModels;
using Capa.TestModels.Images;
using Capa.TestModels.Speech;
using Capa.TestModels.Vision;
using Capa.TestModels.Whisper;

namespace Capa.Cli.Commands;

/// <summary>
/// <c>capa testmodel DIR</c>: writes a model folder with a real architecture, tokenizer and chat template
/// and random weights, for tests (tiny) and benchmarks (0.5b).
/// </summary>
internal static class TestModelCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("dir") { Description = "The folder to write the model into." };
        var arch = new Option<string>("--arch")
        {
            Description = "Architecture family: qwen2, llama, phi3, gemma, whisper (speech recognition), smolvlm, qwen2vl or qwen2.5vl (vision-language), bert or xlmr (sentence embeddings: WordPiece BERT, Unigram XLM-RoBERTa), kokoro or piper (voices), sd (Stable Diffusion image generation) sdxl (SDXL / SDXL-Turbo: two text encoders, pooled embeddings, time ids) or rmbg (a background-removal model in briaai/RMBG-1.4's layout, for transparent backgrounds).",
            DefaultValueFactory = _ => "qwen2",
        };
        var size = new Option<string>("--size")
        {
            Description = "tiny (a few MB, for tests) or 0.5b (Qwen2.5-0.5B's shapes, for benchmarks); whisper: tiny, tiny-real-shapes or base-real-shapes; bert: tiny or small (multilingual-e5-small's shapes); xlmr: tiny or e5-small (multilingual-e5-small's shapes and 250037-piece vocabulary); smolvlm: tiny or 256m-real-shapes (SmolVLM-256M's shapes); kokoro, piper: tiny or real-shapes (Kokoro-82M's, a Piper medium voice's layers and widths); sd: tiny or sd-turbo (SD-Turbo's real shapes, about 5 GB, for benchmarks); sdxl, rmbg: tiny.",
            DefaultValueFactory = _ => "tiny",
        };
        var quant = new Option<string[]>("--quant")
        {
            Description = "Weight formats to write: fp32 (model.onnx), int8 (model_int8.onnx), q4 (model_q4.onnx); "
                + "repeat or separate with commas. Default: all three.",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = true,
        };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random weights (same arguments, same bytes).", DefaultValueFactory = _ => 0 };
        var force = new Option<bool>("--force") { Description = "Write into a folder that already holds files." };
        var crossAttentions = new Option<bool>("--cross-attentions")
        {
            Description = "whisper: the decoder also outputs its cross-attention weights (cross_attentions.N), as *_timestamped exports do, for word timestamps.",
        };

        var command = new Command("testmodel", "Write a model folder with random weights (real layout, tokenizer and chat template).")
        {
            directory, arch, size, quant, seed, force, crossAttentions,
        };
        command.SetAction((parse, ct) => CliRunner.RunAsync(() =>
        {
            bool whisper = string.Equals(parse.GetValue(arch)?.Trim(), "whisper", StringComparison.OrdinalIgnoreCase);
            if (!whisper && parse.GetValue(crossAttentions))
            {
                throw new CliException("--cross-attentions applies to --arch whisper only.");
            }

            if (whisper)
            {
                return WriteWhisper(parse, directory, size, seed, force, crossAttentions, ct);
            }

            if (string.Equals(parse.GetValue(arch)?.Trim(), "smolvlm", StringComparison.OrdinalIgnoreCase))
            {
                return WriteSmolVlm(parse, directory, size, seed, force, ct);
            }

            if (string.Equals(parse.GetValue(arch)?.Trim(), "qwen2vl", StringComparison.OrdinalIgnoreCase))
            {
                return WriteQwen2Vl(parse, directory, size, seed, force, Qwen2VlTestFamily.Qwen2, ct);
            }

            if (parse.GetValue(arch)?.Trim().ToLowerInvariant() is "qwen2.5vl" or "qwen25vl")
            {
                return WriteQwen2Vl(parse, directory, size, seed, force, Qwen2VlTestFamily.Qwen25, ct);
            }

            if (string.Equals(parse.GetValue(arch)?.Trim(), "bert", StringComparison.OrdinalIgnoreCase))
            {
                return WriteBert(parse, directory, size, seed, force, ct);
            }

            if (parse.GetValue(arch)?.Trim().ToLowerInvariant() is "xlmr" or "xlm-roberta")
            {
                return WriteXlmRoberta(parse, directory, size, seed, force, ct);
            }

            if (string.Equals(parse.GetValue(arch)?.Trim(), "rmbg", StringComparison.OrdinalIgnoreCase))
            {
                if (!string.Equals(parse.GetValue(size)?.Trim(), "tiny", StringComparison.OrdinalIgnoreCase))
                {
                    throw new CliException("--arch rmbg comes in --size tiny only.");
                }

                string rmbg = CheckTarget(parse, directory, force);
                var watch = Stopwatch.StartNew();
                Report(BackgroundRemovalTestModelWriter.Write(rmbg, parse.GetValue(seed)), rmbg, watch, "rmbg", "its alpha masks are meaningless");
                return Task.CompletedTask;
            }

            if (parse.GetValue(arch)?.Trim().ToLowerInvariant() is "sd" or "sdxl")
            {
                return WriteDiffusion(parse, directory, arch, size, seed, force, ct);
            }

            if (parse.GetValue(arch)?.Trim().ToLowerInvariant() is "kokoro" or "piper")
            {
                return WriteVoice(parse, directory, arch, size, seed, force, ct);
            }

            TestModelSpec spec;
            try
            {
                string[] quants = [.. (parse.GetValue(quant) ?? []).SelectMany(q => q.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
                spec = new TestModelSpec
                {
                    Arch = TestModelSpec.ParseArch(parse.GetValue(arch)!),
                    Size = TestModelSpec.ParseSize(parse.GetValue(size)!),
                    Quants = quants.Length == 0
                        ? [TestModelQuant.Fp32, TestModelQuant.Int8, TestModelQuant.Q4]
                        : [.. quants.Select(TestModelSpec.ParseQuant).Distinct()],
                    Seed = parse.GetValue(seed),
                };
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message.Split(" (Parameter", 2)[0]);
            }

            string target = CheckTarget(parse, directory, force);
            ct.ThrowIfCancellationRequested();
            var stopwatch = Stopwatch.StartNew();
            TestModelResult result = TestModelWriter.Write(spec, target);
            Report(result, target, stopwatch, spec.Arch.ToString().ToLowerInvariant());
            return Task.CompletedTask;
        }));
        return command;
    }

    private static Task WriteWhisper(
        ParseResult parse, Argument<string> directory, Option<string> size, Option<ulong> seed, Option<bool> force, Option<bool> crossAttentions, CancellationToken ct)
    {
        WhisperTestModelSpec spec;
        try
        {
            spec = new WhisperTestModelSpec
            {
                Size = WhisperTestModelSpec.ParseSize(parse.GetValue(size)!),
                Seed = parse.GetValue(seed),
                CrossAttentions = parse.GetValue(crossAttentions),
            };
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message.Split(" (Parameter", 2)[0]);
        }

        string target = CheckTarget(parse, directory, force);
        ct.ThrowIfCancellationRequested();
        var stopwatch = Stopwatch.StartNew();
        TestModelResult result = WhisperTestModelWriter.Write(spec, target);
        Report(result, target, stopwatch, "whisper");
        return Task.CompletedTask;
    }

    private static Task WriteSmolVlm(ParseResult parse, Argument<string> directory, Option<string> size, Option<ulong> seed, Option<bool> force, CancellationToken ct)
    {
        SmolVlmTestSize parsed;
        try
        {
            parsed = SmolVlmTestModelSpec.ParseSize(parse.GetValue(size));
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message.Split(" (Parameter", 2)[0]);
        }

        var spec = new SmolVlmTestModelSpec { Seed = parse.GetValue(seed), Size = parsed };
        string target = CheckTarget(parse, directory, force);
        ct.ThrowIfCancellationRequested();
        var stopwatch = Stopwatch.StartNew();
        TestModelResult result = SmolVlmTestModelWriter.Write(spec, target);
        Report(result, target, stopwatch, "smolvlm");
        return Task.CompletedTask;
    }

    private static Task WriteQwen2Vl(ParseResult parse, Argument<string> directory, Option<string> size, Option<ulong> seed, Option<bool> force, Qwen2VlTestFamily family, CancellationToken ct)
    {
        string name = family == Qwen2VlTestFamily.Qwen25 ? "qwen2.5vl" : "qwen2vl";
        if (!string.Equals(parse.GetValue(size)?.Trim(), "tiny", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException($"Unknown size '{parse.GetValue(size)}' for {name}: use tiny.");
        }

        string target = CheckTarget(parse, directory, force);
        ct.ThrowIfCancellationRequested();
        var stopwatch = Stopwatch.StartNew();
        TestModelResult result = Qwen2VlTestModelWriter.Write(parse.GetValue(seed), target, family);
        Report(result, target, stopwatch, name);
        return Task.CompletedTask;
    }

    private static Task WriteBert(ParseResult parse, Argument<string> directory, Option<string> size, Option<ulong> seed, Option<bool> force, CancellationToken ct)
    {
        var spec = parse.GetValue(size)?.Trim().ToLowerInvariant() switch
        {
            "tiny" => new Capa.TestModels.Embeddings.BertEncoderSpec(),
            "small" => Capa.TestModels.Embeddings.BertEncoderSpec.Small(layers: 12),
            var other => throw new CliException($"Unknown size '{other}' for bert: use tiny or small."),
        };
        spec = spec with { Seed = parse.GetValue(seed) };
        string target = CheckTarget(parse, directory, force);
        ct.ThrowIfCancellationRequested();
        var stopwatch = Stopwatch.StartNew();
        int vocabulary = Capa.TestModels.Embeddings.BertEncoderWriter.Write(spec, target);
        var files = Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(target, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        long total = files.Sum(f => new FileInfo(Path.Combine(target, f)).Length);
        Report(new TestModelResult(target, files, total, vocabulary), target, stopwatch, "bert");
        return Task.CompletedTask;
    }

    private static Task WriteXlmRoberta(ParseResult parse, Argument<string> directory, Option<string> size, Option<ulong> seed, Option<bool> force, CancellationToken ct)
    {
        var (spec, vocabularySize) = parse.GetValue(size)?.Trim().ToLowerInvariant() switch
        {
            "tiny" => (new Capa.TestModels.Embeddings.BertEncoderSpec(), (int?)null),
            "e5-small" or "small" => (Capa.TestModels.Embeddings.BertEncoderSpec.Small(layers: 12), Capa.TestModels.Embeddings.XlmRobertaEncoderWriter.E5SmallVocabularySize),
            var other => throw new CliException($"Unknown size '{other}' for xlmr: use tiny or e5-small."),
        };
        spec = spec with { Seed = parse.GetValue(seed) };
        string target = CheckTarget(parse, directory, force);
        ct.ThrowIfCancellationRequested();
        var stopwatch = Stopwatch.StartNew();
        int vocabulary = Capa.TestModels.Embeddings.XlmRobertaEncoderWriter.Write(spec, target, vocabularySize);
        var files = Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(target, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        long total = files.Sum(f => new FileInfo(Path.Combine(target, f)).Length);
        Report(new TestModelResult(target, files, total, vocabulary), target, stopwatch, "xlmr");
        return Task.CompletedTask;
    }

    private static Task WriteDiffusion(ParseResult parse, Argument<string> directory, Option<string> arch, Option<string> size, Option<ulong> seed, Option<bool> force, CancellationToken ct)
    {
        DiffusionTestModelSpec spec;
        try
        {
            spec = new DiffusionTestModelSpec
            {
                Architecture = DiffusionTestModelSpec.ParseArchitecture(parse.GetValue(arch)!),
                Size = DiffusionTestModelSpec.ParseSize(parse.GetValue(size)!),
                Seed = parse.GetValue(seed),
            };
            if (spec.Architecture == DiffusionTestArchitecture.StableDiffusionXl && spec.Size != DiffusionTestSize.Tiny)
            {
                throw new ArgumentException("--arch sdxl comes in --size tiny only.");
            }
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message.Split(" (Parameter", 2)[0]);
        }

        string target = CheckTarget(parse, directory, force);
        ct.ThrowIfCancellationRequested();
        var stopwatch = Stopwatch.StartNew();
        TestModelResult result = DiffusionTestModelWriter.Write(spec, target);
        Report(result, target, stopwatch, parse.GetValue(arch)!.Trim().ToLowerInvariant(), "the images are noise");
        return Task.CompletedTask;
    }

    private static Task WriteVoice(ParseResult parse, Argument<string> directory, Option<string> arch, Option<string> size, Option<ulong> seed, Option<bool> force, CancellationToken ct)
    {
        var kind = parse.GetValue(arch)!.Trim().ToLowerInvariant();
        VoiceTestSize voiceSize;
        try
        {
            voiceSize = kind == "kokoro" ? KokoroTestModelSpec.ParseSize(parse.GetValue(size)) : PiperTestModelSpec.ParseSize(parse.GetValue(size));
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message.Split(" (Parameter", 2)[0]);
        }

        string target = CheckTarget(parse, directory, force);
        ct.ThrowIfCancellationRequested();
        var stopwatch = Stopwatch.StartNew();
        TestModelResult result = kind == "kokoro"
            ? KokoroTestModelWriter.Write(new KokoroTestModelSpec { Seed = parse.GetValue(seed), Size = voiceSize }, target)
            : PiperTestModelWriter.Write(new PiperTestModelSpec { Seed = parse.GetValue(seed), Size = voiceSize }, target);
        Report(result, target, stopwatch, kind);
        return Task.CompletedTask;
    }

    private static string CheckTarget(ParseResult parse, Argument<string> directory, Option<bool> force)
    {
        string target = Path.GetFullPath(parse.GetValue(directory)!);
        if (File.Exists(target))
        {
            throw new CliException($"'{target}' is a file, not a folder.");
        }

        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !parse.GetValue(force))
        {
            throw new CliException($"'{target}' is not empty; pass --force to write the model into it anyway.");
        }

        return target;
    }

    private static void Report(TestModelResult result, string target, Stopwatch stopwatch, string arch, string meaning = "the output is not meaningful text")
    {
        foreach (string file in result.Files)
        {
            long bytes = new FileInfo(Path.Combine(target, file)).Length;
            Console.WriteLine($"{FormatBytes(bytes),10}  {file}");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Wrote {FormatBytes(result.TotalBytes)} to {target} in {stopwatch.Elapsed.TotalSeconds:F1} s "
            + $"({arch}, tokenizer {result.TokenizerSize} tokens). The weights are random: {meaning}."));
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
