using System.Text;
using Capa.Media.Processes;

namespace Capa.Engine.Speech.Espeak;

/// <summary>
/// Text to IPA phonemes with espeak-ng (<c>-q --ipa</c>), one run per call, text on standard input, no shell. espeak-ng
/// writes one line per clause; the lines are returned as they came, empty ones dropped.
/// </summary>
public sealed class EspeakPhonemizer
{
    private readonly EspeakInstallation _installation;

    /// <summary>Creates a phonemizer on an installation.</summary>
    public EspeakPhonemizer(EspeakInstallation installation)
    {
        ArgumentNullException.ThrowIfNull(installation);
        _installation = installation;
    }

    /// <summary>The installation's version line (part of every neural voice's fingerprint).</summary>
    public string Version => _installation.Version;

    /// <summary>Whether espeak-ng speaks <paramref name="language"/>.</summary>
    public bool HasLanguage(string language) => Resolve(language) is not null;

    /// <summary>
    /// The language espeak-ng knows for <paramref name="language"/>: itself, or for a bare code that espeak-ng lists only
    /// with a region (<c>en</c>, whose voice file is British English), its first regional form.
    /// </summary>
    public string? Resolve(string language)
    {
        ArgumentNullException.ThrowIfNull(language);
        if (_installation.HasLanguage(language))
        {
            return language;
        }

        return language == "en" && _installation.HasLanguage("en-gb") ? "en-gb"
            : _installation.Languages.FirstOrDefault(l => l.StartsWith(language + "-", StringComparison.Ordinal));
    }

    /// <summary>The IPA lines espeak-ng writes for <paramref name="text"/> in <paramref name="language"/>.</summary>
    /// <exception cref="SpeechSynthesisException">espeak-ng failed or broke a limit.</exception>
    public async Task<IReadOnlyList<string>> PhonemizeAsync(string text, string language, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(language);
        var known = Resolve(language) ?? throw new ArgumentException($"espeak-ng has no language '{language}'.", nameof(language));

        // -b 1: UTF-8 input. --stdin keeps the text off the command line, so no text is read as an option.
        List<string> args = ["-q", "-b", "1", "--ipa", "-v", known, "--stdin"];
        var input = Encoding.UTF8.GetBytes(text.ReplaceLineEndings(" ") + "\n");
        using var output = new MemoryStream();
        try
        {
            await MediaProcess.RunAsync(
                _installation.Path,
                args,
                (stdin, ct) => stdin.WriteAsync(input, ct).AsTask(),
                (chunk, ct) => output.WriteAsync(chunk, ct),
                _installation.Options.Limits with { MaxOutputBytes = 4L * 1024 * 1024 },
                cancellationToken).ConfigureAwait(false);
        }
        catch (MediaProcessException ex)
        {
            throw new SpeechSynthesisException($"espeak-ng failed: {ex.Message}", ex);
        }

        var lines = new List<string>();
        foreach (var line in Encoding.UTF8.GetString(output.GetBuffer(), 0, (int)output.Length).Split('\n'))
        {
            var trimmed = line.TrimEnd('\r');
            if (trimmed.Length > 0)
            {
                lines.Add(trimmed);
            }
        }

        return lines;
    }
}
