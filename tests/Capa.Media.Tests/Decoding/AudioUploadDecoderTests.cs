using System.Diagnostics;
using System.Text;
using Capa.Media.Audio;
using Capa.Media.Decoding;

namespace Capa.Media.Tests.Decoding;

/// <summary>Runs alone, so that the ffmpeg children it counts are its own.</summary>
[CollectionDefinition(nameof(DecoderProcessCollection), DisableParallelization = true)]
public sealed class DecoderProcessCollection;

[Collection(nameof(DecoderProcessCollection))]
public sealed class AudioUploadDecoderTests
{
    private const double Seconds = 3.0;

    [RequiresToolsTheory("ffmpeg")]
    [InlineData("flac", new[] { "-c:a", "flac" })]
    [InlineData("mp3", new[] { "-c:a", "libmp3lame", "-b:a", "64k" })]
    [InlineData("m4a", new[] { "-c:a", "aac", "-b:a", "64k" })]
    [InlineData("mp4", new[] { "-c:a", "aac", "-b:a", "64k" })]
    [InlineData("ogg", new[] { "-c:a", "libvorbis" })]
    [InlineData("oga", new[] { "-c:a", "libopus", "-f", "ogg" })]
    [InlineData("webm", new[] { "-c:a", "libopus" })]
    [InlineData("wav", new[] { "-c:a", "pcm_u8", "-ar", "44100" })]
    public async Task EveryFormat_DecodesToTheSameSamplesWithinCodecTolerance(string extension, string[] encoderArguments)
    {
        float[] source = Chord(16000, Seconds);
        byte[] encoded = await EncodeAsync(source, extension, encoderArguments);

        PcmAudio decoded = await AudioUploadDecoder.DecodeAsync(encoded);

        Assert.Equal(16000, decoded.SampleRate);
        // Lossy codecs add encoder delay and padding of a few tens of milliseconds.
        Assert.InRange(decoded.Duration.TotalSeconds, Seconds - 0.05, Seconds + 0.1);
        double sourceRms = new PcmAudio(16000, source).Rms();
        Assert.InRange(decoded.Rms(), sourceRms * 0.85, sourceRms * 1.15);
        // The dominant 440 Hz tone survives: its correlation with the source, best over small delays, stays high.
        Assert.True(BestCorrelation(source, decoded.Samples) > 0.9, $"{extension}: decoded audio does not follow the source");
    }

    [Fact]
    public async Task Wav16k_IsReadWithoutFfmpeg()
    {
        float[] source = Chord(16000, 1.0);
        PcmAudio decoded = await AudioUploadDecoder.DecodeAsync(WavFile.Write(new PcmAudio(16000, source)), new AudioDecodeOptions { Ffmpeg = "/nonexistent/ffmpeg" });
        Assert.Equal(source.Length, decoded.Samples.Length);
        Assert.True(BestCorrelation(source, decoded.Samples) > 0.999);
    }

    [Fact]
    public async Task NonWav_WithoutFfmpeg_SaysHowToInstallIt()
    {
        byte[] flacMagic = [.. "fLaC"u8, 0, 0, 0, 34];
        var ex = await Assert.ThrowsAsync<AudioDecodeException>(() => AudioUploadDecoder.DecodeAsync(flacMagic, new AudioDecodeOptions { Ffmpeg = "/nonexistent/ffmpeg" }));
        Assert.Equal(AudioDecodeFailure.DecoderMissing, ex.Failure);
        Assert.Contains("apt-get install ffmpeg", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, byte[]> HostileUploads() => new()
    {
        { "empty", [] },
        { "text renamed .mp3", Encoding.UTF8.GetBytes("This is not audio, just a text file with an .mp3 name.\n") },
        { "m3u playlist", Encoding.UTF8.GetBytes("#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\nhttp://127.0.0.1:1/x.mp3\n") },
        { "hls playlist", Encoding.UTF8.GetBytes("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n") },
        { "ID3 tag only", [.. "ID3"u8, 3, 0, 0, 0, 0, 0, 0] },
        { "truncated ftyp", [0, 0, 0, 24, .. "ftypisom"u8, 0, 0, 2, 0] },
        { "ogg page header only", [.. "OggS"u8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0] },
    };

    [RequiresToolsTheory("ffmpeg")]
    [MemberData(nameof(HostileUploads))]
    public async Task HostileUploads_AreUndecodableAndLeaveNoProcess(string name, byte[] bytes)
    {
        int[] before = FfmpegProcesses();
        var ex = await Assert.ThrowsAsync<AudioDecodeException>(() => AudioUploadDecoder.DecodeAsync(bytes));
        Assert.True(ex.Failure == AudioDecodeFailure.Undecodable, $"{name}: {ex.Failure} {ex.Message}");
        Assert.Empty(FfmpegProcesses().Except(before));
    }

    [RequiresToolsFact("ffmpeg")]
    public async Task TruncatedMp3_IsUndecodableOrShort()
    {
        byte[] mp3 = await EncodeAsync(Chord(16000, Seconds), "mp3", ["-c:a", "libmp3lame"]);
        byte[] truncated = mp3[..(mp3.Length / 20)];
        try
        {
            PcmAudio audio = await AudioUploadDecoder.DecodeAsync(truncated);
            // ffmpeg decodes the frames that are complete; what it returns is a prefix of the audio.
            Assert.True(audio.Duration.TotalSeconds < Seconds / 2);
        }
        catch (AudioDecodeException ex)
        {
            Assert.Equal(AudioDecodeFailure.Undecodable, ex.Failure);
        }
    }

    [Fact]
    public async Task WavHeaderClaimingTenHours_DecodesOnlyTheBytesPresent()
    {
        byte[] wav = WavFile.Write(new PcmAudio(16000, Chord(16000, 0.5)));
        // RIFF and data sizes claiming 10 hours of 16 kHz 16-bit audio.
        uint claimed = 10u * 3600 * 16000 * 2;
        BitConverter.TryWriteBytes(wav.AsSpan(4, 4), claimed + 36);
        BitConverter.TryWriteBytes(wav.AsSpan(40, 4), claimed);
        PcmAudio audio = await AudioUploadDecoder.DecodeAsync(wav);
        Assert.Equal(0.5, audio.Duration.TotalSeconds, 3);
    }

    [RequiresToolsFact("ffmpeg")]
    public async Task AudioLongerThanTheCap_IsRefused()
    {
        byte[] flac = await EncodeAsync(Chord(16000, Seconds), "flac", ["-c:a", "flac"]);
        var ex = await Assert.ThrowsAsync<AudioDecodeException>(() => AudioUploadDecoder.DecodeAsync(flac, new AudioDecodeOptions { MaxDuration = TimeSpan.FromSeconds(1) }));
        Assert.Equal(AudioDecodeFailure.TooLong, ex.Failure);

        byte[] wav = WavFile.Write(new PcmAudio(16000, Chord(16000, Seconds)));
        ex = await Assert.ThrowsAsync<AudioDecodeException>(() => AudioUploadDecoder.DecodeAsync(wav, new AudioDecodeOptions { MaxDuration = TimeSpan.FromSeconds(1) }));
        Assert.Equal(AudioDecodeFailure.TooLong, ex.Failure);
    }

    [Fact]
    public void Sniff_RecognisesContainersByContentOnly()
    {
        Assert.Equal(AudioContainer.Mp3, AudioSniffer.Sniff([0xFF, 0xFB, 0x90, 0x64]));
        Assert.Equal(AudioContainer.Unknown, AudioSniffer.Sniff([0xFF, 0xFB, 0xF0, 0x64]));
        Assert.Equal(AudioContainer.WebM, AudioSniffer.Sniff([0x1A, 0x45, 0xDF, 0xA3, 0x9F]));
        Assert.Equal(AudioContainer.Unknown, AudioSniffer.Sniff("<html>"u8));
    }

    private static float[] Chord(int rate, double seconds)
    {
        var samples = new float[(int)(rate * seconds)];
        for (int i = 0; i < samples.Length; i++)
        {
            double t = i / (double)rate;
            samples[i] = (float)((0.4 * Math.Sin(2 * Math.PI * 440 * t)) + (0.1 * Math.Sin(2 * Math.PI * 1250 * t)));
        }

        return samples;
    }

    private static double BestCorrelation(float[] a, float[] b)
    {
        double best = 0;
        int n = Math.Min(a.Length, b.Length) - 2000;
        for (int lag = 0; lag <= 1600; lag += 1)
        {
            double ab = 0, aa = 0, bb = 0;
            for (int i = 0; i < n; i += 3)
            {
                double x = a[i], y = b[i + lag];
                ab += x * y;
                aa += x * x;
                bb += y * y;
            }

            best = Math.Max(best, ab / Math.Sqrt((aa * bb) + 1e-12));
        }

        return best;
    }

    private static async Task<byte[]> EncodeAsync(float[] source, string extension, string[] encoderArguments)
    {
        string dir = Path.Combine(Path.GetTempPath(), "capa-decode-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string input = Path.Combine(dir, "source.wav"), output = Path.Combine(dir, "out." + extension);
            await File.WriteAllBytesAsync(input, WavFile.Write(new PcmAudio(16000, source)));
            var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in (string[])["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", input, .. encoderArguments, output])
            {
                start.ArgumentList.Add(a);
            }

            using var process = Process.Start(start)!;
            string stderr = await process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, $"ffmpeg could not make the {extension} fixture: {stderr}");
            return await File.ReadAllBytesAsync(output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>ffmpeg processes whose parent is this test process (Linux /proc; elsewhere none are seen).</summary>
    private static int[] FfmpegProcesses()
    {
        if (!Directory.Exists("/proc"))
        {
            return [];
        }

        var children = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }

            try
            {
                // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                int close = stat.LastIndexOf(')');
                string comm = stat[(stat.IndexOf('(') + 1)..close];
                string[] rest = stat[(close + 2)..].Split(' ');
                if (comm == "ffmpeg" && int.Parse(rest[1], System.Globalization.CultureInfo.InvariantCulture) == Environment.ProcessId)
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while being read.
            }
        }

        return [.. children];
    }
}
