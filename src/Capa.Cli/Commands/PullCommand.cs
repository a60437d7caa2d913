using System.CommandLine;
using System.Globalization;
using Capa.Models;
using Capa.Models.Hub;
using Capa.Models.Store;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Capa.Cli.Commands;

/// <summary>
/// <c>capa pull ORG/NAME[@REV] [--variant q4|int8|fp16|fp32] [--models-dir DIR]</c>: downloads a Hugging Face model
/// repository (configuration, tokenizer and the ONNX files of one variant) into the model store, with a progress bar
/// (plain lines when the output is not a terminal). <c>HF_ENDPOINT</c> and <c>HF_TOKEN</c> are honoured.
/// <c>capa pull ORG/NAME/VOICE</c> takes one Piper voice out of a voice repository (<c>rhasspy/piper-voices/en_US-lessac-medium</c>)
/// and stores it as <c>ORG/VOICE</c>.
/// </summary>
internal static class PullCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model")
        {
            Description = "ORG/NAME[@REV]: a Hugging Face repository with ONNX files, optionally at a branch, tag or commit; "
                + "or ORG/NAME/VOICE[@REV]: one Piper voice of a voice repository (rhasspy/piper-voices/en_US-lessac-medium), stored as ORG/VOICE.",
        };
        var variant = new Option<string>("--variant")
        {
            Description = "Which ONNX weights to download: q4 (4-bit, fastest on CPU), int8, fp16 or fp32.",
            DefaultValueFactory = _ => "q4",
        };
        variant.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "q4", "int8", "fp16", "fp32");
        var modelsDir = ModelsDirOption();

        var command = new Command("pull", "Download a model from Hugging Face (or HF_ENDPOINT) into the model store.")
        {
            model, variant, modelsDir,
        };
        command.SetAction((parse, ct) => CliRunner.RunAsync(async () =>
        {
            var reference = Run(() => ModelReference.Parse(parse.GetValue(model) ?? string.Empty));
            var chosen = ModelVariants.Parse(parse.GetValue(variant)) ?? ModelVariant.Q4;
            var store = Run(() => ModelStore.Open(parse.GetValue(modelsDir)));
            using var client = Run(() => new HubClient(HubClientOptions.FromEnvironment()));
            var plain = Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive;
            if (reference.Voice is not null)
            {
                // A Piper voice has one ONNX file: there is no variant to choose.
                chosen = ModelVariant.Fp32;
            }

            Console.WriteLine($"Pulling {reference} ({(reference.Voice is null ? chosen.Name() : "voice")}) from {client.Options.Endpoint.TrimEnd('/')} into {store.Root}");
            try
            {
                var pulled = plain
                    ? await PullOneAsync(client, reference, chosen, store, new PlainProgress(), ct).ConfigureAwait(false)
                    : await PullWithBarAsync(client, reference, chosen, store, ct).ConfigureAwait(false);
                Console.WriteLine(
                    $"Pulled {pulled.Id} ({pulled.Variant?.Name() ?? chosen.Name()}, {ByteSize.Format(pulled.SizeBytes)}" +
                    (pulled.Commit is { } commit ? $", commit {commit[..Math.Min(12, commit.Length)]}" : string.Empty) +
                    $") into {pulled.Directory}");
            }
            catch (HubException e)
            {
                throw new CliException(e.Message);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Console.Error.WriteLine("Pull interrupted: run the same command again to resume where it stopped.");
                throw;
            }
        }));
        return command;
    }

    /// <summary>The <c>--models-dir</c> option of the store commands.</summary>
    internal static Option<string?> ModelsDirOption() => new("--models-dir")
    {
        Description = $"The model store (default: ${ModelStore.EnvironmentVariable}, else ~/.capa/models).",
    };

    /// <summary>Runs a set-up step whose failures are the user's to fix (bad id, bad HF_ENDPOINT, no home folder).</summary>
    internal static T Run<T>(Func<T> step)
    {
        try
        {
            return step();
        }
        catch (HubException e)
        {
            throw new CliException(e.Message);
        }
        catch (ArgumentException e)
        {
            // The message is for the user; the parameter name .NET appends is not.
            throw new CliException(e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal));
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(e.Message);
        }
    }

    private static async Task<StoredModel> PullWithBarAsync(HubClient client, ModelReference reference, ModelVariant variant, ModelStore store, CancellationToken ct)
    {
        PullProgress? latest = null;
        return await AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new TextColumn(() => latest is null ? string.Empty : $"{ByteSize.Format(latest.BytesDone)} / {ByteSize.Format(latest.TotalBytes)}"),
                new TextColumn(() => latest is { BytesPerSecond: > 0 } p ? $"{ByteSize.Format((long)p.BytesPerSecond)}/s" : string.Empty),
                new TextColumn(() => latest?.Remaining is { } eta ? "ETA " + FormatDuration(eta) : string.Empty))
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(reference.RepoId), new ProgressTaskSettings { AutoStart = true, MaxValue = 1 });
                var progress = new InlineProgress(p =>
                {
                    latest = p;
                    task.MaxValue = Math.Max(1, p.TotalBytes);
                    task.Value = Math.Min(p.BytesDone, task.MaxValue);
                    task.Description = Markup.Escape(p.Stage switch
                    {
                        PullStage.Resolving => $"{reference.RepoId}: asking for the file list",
                        PullStage.Retrying => $"{reference.RepoId}: retry {p.Attempt} after: {Shorten(p.Note ?? "a failure", 60)}",
                        PullStage.Installing => $"{reference.RepoId}: installing",
                        _ => $"{reference.RepoId}: {Shorten(p.File, 40)} ({p.FileIndex + 1}/{p.FileCount})",
                    });
                });
                var pulled = await PullOneAsync(client, reference, variant, store, progress, ct).ConfigureAwait(false);
                task.Description = Markup.Escape($"{pulled.Id}: done");
                task.Value = task.MaxValue;
                task.StopTask();
                return pulled;
            }).ConfigureAwait(false);
    }

    private static Task<StoredModel> PullOneAsync(HubClient client, ModelReference reference, ModelVariant variant, ModelStore store, IProgress<PullProgress> progress, CancellationToken ct) =>
        client.PullAsync(reference, variant, store, progress, ct);

    private static string Shorten(string text, int max) => text.Length <= max ? text : "…" + text[^(max - 1)..];

    private static string FormatDuration(TimeSpan span) => span.TotalHours >= 1
        ? span.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
        : span.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    /// <summary>Reports on the downloading thread, in order (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class InlineProgress(Action<PullProgress> report) : IProgress<PullProgress>
    {
        public void Report(PullProgress value) => report(value);
    }

    /// <summary>Progress as plain lines, for logs and pipes: one per file, plus one every 10% of a long download.</summary>
    private sealed class PlainProgress : IProgress<PullProgress>
    {
        private int _lastDecile;

        public void Report(PullProgress value)
        {
            switch (value.Stage)
            {
                case PullStage.Resolving:
                    Console.WriteLine("  asking for the file list");
                    break;
                case PullStage.Retrying:
                    Console.WriteLine($"  retry {value.Attempt} after: {value.Note}");
                    break;
                case PullStage.FileCompleted:
                    Console.WriteLine($"  [{value.FileIndex + 1}/{value.FileCount}] {value.File} ({ByteSize.Format(value.FileBytesDone)})");
                    break;
                case PullStage.Installing:
                    Console.WriteLine("  verified; installing");
                    break;
                case PullStage.Downloading when value.TotalBytes > 0:
                    var decile = (int)(value.BytesDone * 10 / value.TotalBytes);
                    if (decile > _lastDecile && decile < 10)
                    {
                        _lastDecile = decile;
                        var speed = value.BytesPerSecond > 0 ? $", {ByteSize.Format((long)value.BytesPerSecond)}/s" : string.Empty;
                        var eta = value.Remaining is { } left ? $", ETA {FormatDuration(left)}" : string.Empty;
                        Console.WriteLine($"  {decile * 10}% of {ByteSize.Format(value.TotalBytes)}{speed}{eta}");
                    }

                    break;
            }
        }
    }

    /// <summary>A progress column showing text computed at each refresh.</summary>
    private sealed class TextColumn(Func<string> text) : ProgressColumn
    {
        protected override bool NoWrap => true;

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) => new Text(text());
    }
}
