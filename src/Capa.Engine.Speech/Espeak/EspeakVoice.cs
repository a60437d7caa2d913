using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Capa.Engine.Speech.Text;
using Capa.Media.Audio;
using Capa.Media.Processes;

namespace Capa.Engine.Speech.Espeak;

/// <summary>
/// An espeak-ng voice: one espeak-ng process per sentence (text on standard input, WAV on standard output, no shell,
/// bounded by <see cref="EspeakOptions.Limits"/>). The language is fixed by the voice or chosen per sentence from the
/// text (<see cref="ScriptLanguage"/>), so "你好，世界。Hello world." is read in Mandarin, then in English. A variant
/// (<c>f3</c>, <c>m3</c>, ...) changes pitch and timbre in every language.
/// </summary>
public sealed class EspeakVoice : ISpeechVoice
{
    /// <summary>The id of the voice that chooses its language from the text, with espeak-ng's default timbre.</summary>
    public const string AutoId = "espeak-ng";

    /// <summary>Smallest piece passed on while a run is under way (about 0.1 s at 22,050 Hz).</summary>
    private const int MinPieceBytes = 4096;

    private readonly EspeakInstallation installation;

    /// <summary>Creates a voice.</summary>
    /// <param name="installation">The espeak-ng to run.</param>
    /// <param name="language">A language espeak-ng lists, or null to choose it from the text.</param>
    /// <param name="variant">A variant name (<c>f3</c>), or null for the language's own.</param>
    /// <param name="id">The id clients use; by default <c>espeak-ng</c>, <c>espeak-ng/LANG</c> or <c>espeak-ng/LANG+VARIANT</c>.</param>
    public EspeakVoice(EspeakInstallation installation, string? language = null, string? variant = null, string? id = null)
    {
        ArgumentNullException.ThrowIfNull(installation);
        if (language is not null && !installation.HasLanguage(language))
        {
            throw new ArgumentException($"espeak-ng has no language '{language}'.", nameof(language));
        }

        if (variant is not null && !EspeakInstallation.IsLanguageId(variant))
        {
            throw new ArgumentException($"'{variant}' is not a variant name.", nameof(variant));
        }

        this.installation = installation;
        Language = language;
        Variant = variant;
        Id = id ?? (language, variant) switch
        {
            (null, null) => AutoId,
            (null, _) => $"{AutoId}/+{variant}",
            (_, null) => $"{AutoId}/{language}",
            _ => $"{AutoId}/{language}+{variant}",
        };
        FingerprintInputs = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["voice.engine"] = installation.Version,
            ["voice.language"] = language ?? "auto:" + installation.Options.DefaultLanguage,
            ["voice.variant"] = variant ?? "-",
            ["voice.rate"] = EspeakRate.Version,
            ["voice.splitter"] = "sentences-grouped-by-language/" + SentenceSplitter.MaxPieceLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <summary>The fixed language, or null when chosen from the text.</summary>
    public string? Language { get; }

    /// <summary>The variant, or null.</summary>
    public string? Variant { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> FingerprintInputs { get; }

    /// <summary>
    /// Parses a local voice id: <c>espeak-ng</c>, <c>espeak-ng/LANG</c>, <c>espeak-ng/LANG+VARIANT</c> or
    /// <c>espeak-ng/+VARIANT</c>, with a language this espeak-ng speaks.
    /// </summary>
    public static bool TryParseId(string id, EspeakInstallation installation, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EspeakVoice? voice)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(installation);
        voice = null;
        if (id == AutoId)
        {
            voice = new EspeakVoice(installation);
            return true;
        }

        if (!id.StartsWith(AutoId + "/", StringComparison.Ordinal))
        {
            return false;
        }

        var spec = id[(AutoId.Length + 1)..];
        var plus = spec.IndexOf('+', StringComparison.Ordinal);
        var language = plus < 0 ? spec : spec[..plus];
        var variant = plus < 0 ? null : spec[(plus + 1)..];
        if ((language.Length > 0 && !installation.HasLanguage(language)) || (variant is not null && !EspeakInstallation.IsLanguageId(variant)) || (language.Length == 0 && variant is null))
        {
            return false;
        }

        voice = new EspeakVoice(installation, language.Length == 0 ? null : language, variant);
        return true;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<PcmAudio> SynthesizeAsync(SpeechInput input, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var rate = EspeakRate.Arguments(input.Speed);
        var groups = GroupByLanguage(SentenceSplitter.Split(input.Text)).ToList();
        var runs = new Queue<EspeakRun>();
        try
        {
            for (var next = 0; next < groups.Count || runs.Count > 0;)
            {
                // The next language's run starts while this one is read, so its start-up never shows as a gap.
                while (next < groups.Count && runs.Count < 2)
                {
                    var (language, text) = groups[next++];
                    runs.Enqueue(Start(text, Variant is null ? language : language + "+" + Variant, rate, cancellationToken));
                }

                await using var run = runs.Dequeue();
                await foreach (var piece in run.ReadAsync().ConfigureAwait(false))
                {
                    yield return piece;
                }
            }
        }
        finally
        {
            while (runs.TryDequeue(out var left))
            {
                await left.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Consecutive sentences in the same language, joined: one espeak-ng run speaks them all.</summary>
    internal IEnumerable<(string Language, string Text)> GroupByLanguage(IReadOnlyList<string> sentences)
    {
        string? current = null;
        var text = new StringBuilder();
        foreach (var sentence in sentences)
        {
            var language = Language ?? ScriptLanguage.Detect(sentence, installation.Options.DefaultLanguage);
            if (!installation.HasLanguage(language))
            {
                language = installation.Options.DefaultLanguage;
            }

            if (current is not null && language != current)
            {
                yield return (current, text.ToString());
                text.Clear();
            }

            current = language;
            text.Append(text.Length > 0 ? "\n" : "").Append(sentence);
        }

        if (current is not null)
        {
            yield return (current, text.ToString());
        }
    }

    /// <summary>Starts one espeak-ng run over sentences in one language.</summary>
    private EspeakRun Start(string text, string voice, IReadOnlyList<string> rate, CancellationToken cancellationToken)
    {
        // -b 1: the input is UTF-8. --stdin: the text never appears on the command line, so no text is read as an option.
        List<string> args = ["-b", "1", "-v", voice, .. rate, "--stdout", "--stdin"];
        return new EspeakRun(installation, args, Encoding.UTF8.GetBytes(text + "\n"), cancellationToken);
    }

    /// <summary>
    /// One espeak-ng run, streamed: espeak-ng writes each sentence's samples as soon as it has made them, and
    /// <see cref="ReadAsync"/> passes them on as they arrive, so the first sentence plays while the next ones are spoken.
    /// </summary>
    private sealed class EspeakRun : IAsyncDisposable
    {
        private readonly Channel<byte[]> chunks = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        private readonly CancellationTokenSource stop;
        private readonly Task run;

        public EspeakRun(EspeakInstallation installation, List<string> args, byte[] input, CancellationToken cancellationToken)
        {
            stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            run = RunAsync(installation, args, input, chunks.Writer, stop.Token);
        }

        public async IAsyncEnumerable<PcmAudio> ReadAsync()
        {
            var pending = new List<byte>();
            WavHeader? header = null;
            await foreach (var chunk in chunks.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                pending.AddRange(chunk);
                if (header is null)
                {
                    if (!WavFile.TryReadHeader(pending.ToArray(), out var found, out var error))
                    {
                        if (error is not null)
                        {
                            throw new SpeechSynthesisException($"espeak-ng wrote no readable audio: {error}");
                        }

                        continue;
                    }

                    if (!found.IsPcm16Mono)
                    {
                        throw new SpeechSynthesisException("espeak-ng wrote audio that is not 16-bit mono.");
                    }

                    header = found;
                    pending.RemoveRange(0, Math.Min(found.DataOffset, pending.Count));
                }

                if (pending.Count >= MinPieceBytes)
                {
                    yield return TakeSamples(pending, header.Value.SampleRate);
                }
            }

            // The pipe closed: the run's outcome decides whether what came is the whole utterance.
            await run.ConfigureAwait(false);
            if (header is null)
            {
                throw new SpeechSynthesisException("espeak-ng wrote no readable audio.");
            }

            if (pending.Count >= 2)
            {
                yield return TakeSamples(pending, header.Value.SampleRate);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!run.IsCompleted)
            {
                await stop.CancelAsync().ConfigureAwait(false);
            }

            try
            {
                await run.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SpeechSynthesisException or OperationCanceledException)
            {
                // Reported by ReadAsync, or the reader stopped early.
            }

            stop.Dispose();
        }

        private static async Task RunAsync(EspeakInstallation installation, List<string> args, byte[] input, ChannelWriter<byte[]> chunks, CancellationToken cancellationToken)
        {
            try
            {
                await MediaProcess.RunAsync(
                    installation.Path,
                    args,
                    (stdin, ct) => stdin.WriteAsync(input, ct).AsTask(),
                    (chunk, _) =>
                    {
                        chunks.TryWrite(chunk.ToArray());
                        return ValueTask.CompletedTask;
                    },
                    installation.Options.Limits,
                    cancellationToken).ConfigureAwait(false);
            }
            catch (MediaProcessException ex)
            {
                throw new SpeechSynthesisException($"espeak-ng failed: {ex.Message}", ex);
            }
            finally
            {
                chunks.TryComplete();
            }
        }
    }

    /// <summary>Takes the whole 16-bit samples of <paramref name="pending"/>, leaving an odd byte for the next chunk.</summary>
    private static PcmAudio TakeSamples(List<byte> pending, int sampleRate)
    {
        var count = pending.Count & ~1;
        var bytes = new byte[count];
        pending.CopyTo(0, bytes, 0, count);
        pending.RemoveRange(0, count);
        return new PcmAudio(sampleRate, Pcm16.ToFloat(bytes));
    }
}
