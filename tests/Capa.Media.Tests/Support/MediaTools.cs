using System.Globalization;
using System.Text.Json;
using Capa.Media.Audio;
using Capa.Media.Processes;

namespace Capa.Media.Tests;

/// <summary>What ffprobe says about a file.</summary>
public sealed record ProbeResult(string FormatName, string CodecName, int SampleRate, int Channels);

/// <summary>ffprobe and ffmpeg as independent judges of encoded audio, run through the hardened runner.</summary>
public static class MediaTools
{
    private static readonly MediaProcessLimits Limits = MediaProcessLimits.Default with { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>The container and first audio stream of <paramref name="bytes"/>, as ffprobe sees them.</summary>
    public static async Task<ProbeResult> ProbeAsync(byte[] bytes, string? inputFormat = null)
    {
        List<string> args = ["-hide_banner", "-loglevel", "error"];
        if (inputFormat is not null)
        {
            args.AddRange(inputFormat.Split(' '));
        }

        args.AddRange(["-show_entries", "format=format_name:stream=codec_name,sample_rate,channels", "-of", "json", "-i", "pipe:0"]);
        using var input = new MemoryStream(bytes);
        using var output = new MemoryStream();
        await MediaProcess.RunAsync("ffprobe", args, input, output, Limits, CancellationToken.None);
        using var json = JsonDocument.Parse(output.ToArray());
        var stream = json.RootElement.GetProperty("streams")[0];
        return new ProbeResult(
            json.RootElement.GetProperty("format").GetProperty("format_name").GetString()!,
            stream.GetProperty("codec_name").GetString()!,
            int.Parse(stream.GetProperty("sample_rate").GetString()!, CultureInfo.InvariantCulture),
            stream.GetProperty("channels").GetInt32());
    }

    /// <summary>Decodes any file ffmpeg reads to mono float samples at its own sample rate (or <paramref name="sampleRate"/>).</summary>
    public static async Task<PcmAudio> DecodeAsync(byte[] bytes, int? sampleRate = null, string? inputFormat = null)
    {
        List<string> args = ["-hide_banner", "-nostdin", "-loglevel", "error"];
        if (inputFormat is not null)
        {
            args.AddRange(inputFormat.Split(' '));
        }

        args.AddRange(["-i", "pipe:0", "-map", "0:a:0", "-ac", "1"]);
        if (sampleRate is { } rate)
        {
            args.AddRange(["-ar", rate.ToString(CultureInfo.InvariantCulture)]);
        }

        args.AddRange(["-f", "wav", "pipe:1"]);
        using var input = new MemoryStream(bytes);
        using var output = new MemoryStream();
        await MediaProcess.RunAsync("ffmpeg", args, input, output, Limits, CancellationToken.None);
        return WavFile.Read(output.ToArray());
    }

    /// <summary>A sine tone, for fixtures.</summary>
    public static float[] Tone(int sampleRate, double seconds, double frequency, float amplitude = 0.5f)
    {
        var samples = new float[(int)(sampleRate * seconds)];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = amplitude * (float)Math.Sin(2 * Math.PI * frequency * i / sampleRate);
        }

        return samples;
    }

    /// <summary>Whether a process with this id still exists (a zombie counts as gone: it holds no resources but its entry).</summary>
    public static bool ProcessExists(int pid)
    {
        var stat = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat";
        try
        {
            var text = File.ReadAllText(stat);
            var state = text[(text.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z";
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>Waits (bounded) until no process of <paramref name="pids"/> exists; true when all are gone.</summary>
    public static async Task<bool> AllGoneAsync(IEnumerable<int> pids, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        var list = pids.ToList();
        while (list.Any(ProcessExists))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }
}
