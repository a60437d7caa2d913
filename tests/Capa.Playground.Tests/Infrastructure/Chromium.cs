using Microsoft.Playwright;

namespace Capa.Playground.Tests.Infrastructure;

/// <summary>
/// The system's Chromium (Debian's <c>chromium</c> package, which CI installs), driven headless by Playwright. No browser
/// is ever downloaded: where none is installed, the browser tests skip with <see cref="UnavailableReason"/>.
/// </summary>
public static class Chromium
{
    private static readonly string[] Names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

    /// <summary>The browser executable: <c>$CAPA_CHROMIUM</c>, else the first of the usual names on PATH.</summary>
    public static string? ExecutablePath { get; } = Find();

    /// <summary>Why the browser tests cannot run here, or null.</summary>
    public static string? UnavailableReason => ExecutablePath is null
        ? "no Chromium found (install Debian's chromium package, or set CAPA_CHROMIUM to a Chromium or Chrome executable)"
        : null;

    /// <summary>Starts Playwright and a headless browser.</summary>
    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Timeout = 60_000,
                // Audio plays without a gesture in tests; the fake devices give MediaRecorder a microphone.
                Args = ["--autoplay-policy=no-user-gesture-required", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--lang=en-US"],
            });
            return (playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("CAPA_CHROMIUM") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : null;
        }

        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return Names.SelectMany(name => path.Select(dir => Path.Combine(dir, name))).FirstOrDefault(File.Exists);
    }
}

/// <summary>Whether an executable is on PATH (espeak-ng, ffmpeg, curl, node).</summary>
public static class Tools
{
    public static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, name)));
}
