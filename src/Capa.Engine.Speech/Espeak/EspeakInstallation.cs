using System.Diagnostics.CodeAnalysis;
using System.Text;
using Capa.Media.Processes;

namespace Capa.Engine.Speech.Espeak;

/// <summary>
/// The espeak-ng found on this machine: its path, its version line and the languages it speaks. Found once at start
/// by <see cref="TryDetectAsync"/>; when it is missing the error says how to install it.
/// </summary>
public sealed class EspeakInstallation
{
    /// <summary>How to install espeak-ng, for messages.</summary>
    public const string InstallHint = "Install it with 'apt-get install espeak-ng' (Debian, Ubuntu), 'dnf install espeak-ng' (Fedora) or 'brew install espeak-ng' (macOS), or set the path to it.";

    private readonly HashSet<string> languages;

    private EspeakInstallation(string path, string version, HashSet<string> languages, EspeakOptions options)
    {
        Path = path;
        Version = version;
        this.languages = languages;
        Options = options;
    }

    /// <summary>The executable's full path.</summary>
    public string Path { get; }

    /// <summary>The version line (<c>eSpeak NG text-to-speech: 1.51 ...</c> without the data path).</summary>
    public string Version { get; }

    /// <summary>The options it was found with.</summary>
    public EspeakOptions Options { get; }

    /// <summary>The language ids espeak-ng lists (<c>en-us</c>, <c>cmn</c>, <c>de</c>, ...), sorted.</summary>
    public IReadOnlyList<string> Languages => [.. languages.Order(StringComparer.Ordinal)];

    /// <summary>Whether espeak-ng speaks <paramref name="language"/>.</summary>
    public bool HasLanguage(string language) => languages.Contains(language);

    /// <summary>Finds espeak-ng and asks it for its version and languages.</summary>
    /// <returns>False, with a message that says how to install it, when it is missing or does not answer.</returns>
    public static async Task<(EspeakInstallation? Installation, string? Error)> TryDetectAsync(EspeakOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!ExecutableLocator.TryFind(options.Executable, out var path))
        {
            return (null, $"espeak-ng was not found ('{options.Executable}'). Text to speech needs it. {InstallHint}");
        }

        var limits = MediaProcessLimits.Default with { Timeout = TimeSpan.FromSeconds(15), MaxOutputBytes = 1024 * 1024 };
        try
        {
            var version = await RunTextAsync(path, ["--version"], limits, cancellationToken).ConfigureAwait(false);
            var voices = await RunTextAsync(path, ["--voices"], limits, cancellationToken).ConfigureAwait(false);
            var found = ParseLanguages(voices);
            if (found.Count == 0)
            {
                return (null, $"espeak-ng at '{path}' lists no voices: its data files are missing. {InstallHint}");
            }

            var line = version.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "espeak-ng";
            var dataAt = line.IndexOf("  Data at:", StringComparison.Ordinal);
            return (new EspeakInstallation(path, dataAt > 0 ? line[..dataAt].Trim() : line, found, options), null);
        }
        catch (MediaProcessException ex)
        {
            return (null, $"espeak-ng at '{path}' does not run ({ex.Message}). {InstallHint}");
        }
    }

    /// <summary>Finds espeak-ng or throws with the install hint.</summary>
    /// <exception cref="InvalidOperationException">espeak-ng is missing or broken.</exception>
    public static async Task<EspeakInstallation> DetectAsync(EspeakOptions options, CancellationToken cancellationToken)
    {
        var (installation, error) = await TryDetectAsync(options, cancellationToken).ConfigureAwait(false);
        return installation ?? throw new InvalidOperationException(error);
    }

    /// <summary>Reads the language column of <c>espeak-ng --voices</c>.</summary>
    internal static HashSet<string> ParseLanguages(string voicesListing)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in voicesListing.Split('\n').Skip(1))
        {
            var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length >= 2 && IsLanguageId(columns[1]))
            {
                result.Add(columns[1]);
            }
        }

        return result;
    }

    /// <summary>Letters, digits and hyphens only: nothing that could be read as an option or a path.</summary>
    internal static bool IsLanguageId([NotNullWhen(true)] string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= 40 && char.IsAsciiLetter(value[0]) && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static async Task<string> RunTextAsync(string path, IReadOnlyList<string> args, MediaProcessLimits limits, CancellationToken cancellationToken)
    {
        using var output = new MemoryStream();
        await MediaProcess.RunAsync(path, args, null, output, limits, cancellationToken).ConfigureAwait(false);
        return Encoding.UTF8.GetString(output.ToArray());
    }
}
