using Capa.Media.Audio;
using Capa.Media.Codecs;
using Microsoft.Extensions.Time.Testing;

namespace Capa.Media.Tests.Codecs;

public sealed class FfmpegSparesTests
{
    [RequiresToolsFact("ffmpeg")]
    public async Task A_spare_is_taken_while_young_and_replaced_once_older_than_its_age_limit_on_the_options_clock()
    {
        var start = new DateTimeOffset(2031, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var clock = new FakeTimeProvider(start);

        // A rate no other test uses, so this test owns its spare.
        const int rate = 11_025;
        var options = new FfmpegOptions { KeepSpare = true, TimeProvider = clock };
        var runs = new List<FfmpegRun>();
        try
        {
            // No spare yet: a fresh run, and a spare started beside it.
            runs.Add(FfmpegSpares.Take(AudioFormat.Flac, rate, options));
            Assert.Equal(start, runs[^1].Started);

            // Ten seconds later the spare is young: it is what the next stream gets (started at the first take).
            clock.Advance(TimeSpan.FromSeconds(10));
            runs.Add(FfmpegSpares.Take(AudioFormat.Flac, rate, options));
            Assert.Equal(start, runs[^1].Started);

            // The spare started at +10 s is at the age limit at +40 s: replaced by a fresh run, not used.
            clock.Advance(FfmpegSpares.MaxAge);
            runs.Add(FfmpegSpares.Take(AudioFormat.Flac, rate, options));
            Assert.Equal(start + TimeSpan.FromSeconds(10) + FfmpegSpares.MaxAge, runs[^1].Started);

            // And the run taken last still encodes.
            var bytes = new List<byte>();
            runs[^1].Attach((chunk, _) =>
            {
                bytes.AddRange(chunk.ToArray());
                return ValueTask.CompletedTask;
            });
            await runs[^1].WriteAsync(MediaTools.Tone(rate, 0.2, 440), CancellationToken.None);
            await runs[^1].CompleteAsync(CancellationToken.None);
            Assert.Equal("fLaC"u8.ToArray(), bytes.Take(4).ToArray());
        }
        finally
        {
            foreach (var run in runs)
            {
                await run.DisposeAsync();
            }
        }
    }
}
