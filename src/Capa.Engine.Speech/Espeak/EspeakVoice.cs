using System.Runtime.CompilerServices;
using System.Text;
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
            ["voice.splitter"] = "sentences/" + SentenceSplitter.MaxPieceLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
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
        foreach (var sentence in SentenceSplitter.Split(input.Text))
        {
            var language = Language ?? ScriptLanguage.Detect(sentence, installation.Options.DefaultLanguage);
            if (!installation.HasLanguage(language))
            {
                language = installation.Options.DefaultLanguage;
            }

            yield return await SpeakAsync(sentence, Variant is null ? language : language + "+" + Variant, rate, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<PcmAudio> SpeakAsync(string sentence, string voice, IReadOnlyList<string> rate, CancellationToken cancellationToken)
    {
        // -b 1: the input is UTF-8. --stdin: the text never appears on the command line, so no text is read as an option.
        List<string> args = ["-b", "1", "-v", voice, .. rate, "--stdout", "--stdin"];
        var text = Encoding.UTF8.GetBytes(sentence + "\n");
        using var output = new MemoryStream();
        try
        {
            await MediaProcess.RunAsync(
                installation.Path,
                args,
                (stdin, ct) => stdin.WriteAsync(text, ct).AsTask(),
                (chunk, ct) => output.WriteAsync(chunk, ct),
                installation.Options.Limits,
                cancellationToken).ConfigureAwait(false);
        }
        catch (MediaProcessException ex)
        {
            throw new SpeechSynthesisException($"espeak-ng failed: {ex.Message}", ex);
        }

        if (!WavFile.TryRead(output.GetBuffer().AsSpan(0, (int)output.Length), out var audio, out var error))
        {
            throw new SpeechSynthesisException($"espeak-ng wrote no readable audio: {error}");
        }

        return audio;
    }
}
