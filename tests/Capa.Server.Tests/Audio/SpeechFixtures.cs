using System.Diagnostics;
using System.Globalization;

namespace Capa.Server.Tests.Audio;

/// <summary>Speech made with espeak-ng and converted with ffmpeg, as a person would make test recordings.</summary>
internal static class SpeechFixtures
{
    public static string? MissingTool { get; } = new[] { "espeak-ng", "ffmpeg", "ffprobe" }.FirstOrDefault(t => FindOnPath(t) is null);

    public static async Task<byte[]> SpeakAsync(string text, string voice, string extension, string directory)
    {
        string wav = Path.Combine(directory, Guid.NewGuid().ToString("N") + ".wav");
        await RunAsync("espeak-ng", ["-v", voice, "-w", wav, text]);
        if (extension == "wav")
        {
            return await File.ReadAllBytesAsync(wav);
        }

        return await ConvertAsync(wav, extension, directory);
    }

    public static async Task<byte[]> ConvertAsync(string input, string extension, string directory)
    {
        string output = Path.Combine(directory, Guid.NewGuid().ToString("N") + "." + extension);
        string[] codec = extension switch
        {
            "mp3" or "mpga" or "mpeg" => ["-c:a", "libmp3lame", "-f", "mp3"],
            "m4a" or "mp4" => ["-c:a", "aac", "-f", "mp4"],
            "ogg" => ["-c:a", "libvorbis", "-f", "ogg"],
            "oga" => ["-c:a", "libopus", "-f", "ogg"],
            "webm" => ["-c:a", "libopus", "-f", "webm"],
            "flac" => ["-c:a", "flac", "-f", "flac"],
            _ => throw new ArgumentOutOfRangeException(nameof(extension)),
        };
        await RunAsync("ffmpeg", ["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", input, .. codec, output]);
        return await File.ReadAllBytesAsync(output);
    }

    /// <summary>ffprobe's duration of a file, in seconds.</summary>
    public static async Task<double> ProbeDurationAsync(byte[] bytes, string extension, string directory)
    {
        string file = Path.Combine(directory, Guid.NewGuid().ToString("N") + "." + extension);
        await File.WriteAllBytesAsync(file, bytes);
        string output = await RunAsync("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", file]);
        return double.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    public static async Task<string> RunAsync(string tool, string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{tool} failed: {await stderr}");
        return await stdout;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
}

/// <summary>A fact that needs espeak-ng, ffmpeg and ffprobe, skipped with the missing tool's name otherwise.</summary>
public sealed class RequiresSpeechToolsFactAttribute : FactAttribute
{
    public RequiresSpeechToolsFactAttribute()
    {
        if (SpeechFixtures.MissingTool is { } tool)
        {
            Skip = $"{tool} is not installed (Debian: apt-get install espeak-ng ffmpeg).";
        }
    }
}

/// <summary>A theory that needs espeak-ng, ffmpeg and ffprobe.</summary>
public sealed class RequiresSpeechToolsTheoryAttribute : TheoryAttribute
{
    public RequiresSpeechToolsTheoryAttribute()
    {
        if (SpeechFixtures.MissingTool is { } tool)
        {
            Skip = $"{tool} is not installed (Debian: apt-get install espeak-ng ffmpeg).";
        }
    }
}
