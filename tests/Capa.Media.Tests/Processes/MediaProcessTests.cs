using System.Globalization;
using System.Text;
using Capa.Media.Processes;

namespace Capa.Media.Tests.Processes;

public sealed class MediaProcessTests
{
    private static readonly MediaProcessLimits Quick = MediaProcessLimits.Default with { Timeout = TimeSpan.FromSeconds(20) };

    [RequiresToolsFact("cat")]
    public async Task Copies_standard_input_to_standard_output()
    {
        var payload = new byte[300_000];
        new Random(7).NextBytes(payload);
        using var input = new MemoryStream(payload);
        using var output = new MemoryStream();

        var result = await MediaProcess.RunAsync("cat", [], input, output, Quick, CancellationToken.None);

        Assert.Equal(payload, output.ToArray());
        Assert.Equal(payload.Length, result.OutputBytes);
    }

    [RequiresToolsFact("sh")]
    public async Task Arguments_are_never_interpreted_by_a_shell()
    {
        using var output = new MemoryStream();
        var tricky = "$(echo injected); `id` && echo 'x' > /tmp/never \"quoted\" *";

        await MediaProcess.RunAsync("sh", ["-c", "printf '%s' \"$1\"", "sh", tricky], null, output, Quick, CancellationToken.None);

        Assert.Equal(tricky, Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public async Task A_missing_executable_is_a_start_failure()
    {
        using var output = new MemoryStream();
        var error = await Assert.ThrowsAsync<MediaProcessException>(() =>
            MediaProcess.RunAsync("capa-no-such-tool-" + Guid.NewGuid().ToString("N"), [], null, output, Quick, CancellationToken.None));
        Assert.Equal(MediaProcessFailure.StartFailed, error.Failure);
    }

    [RequiresToolsFact("sh")]
    public async Task A_non_zero_exit_keeps_only_the_tail_of_standard_error()
    {
        using var output = new MemoryStream();
        var limits = Quick with { MaxStandardErrorBytes = 64 };

        var error = await Assert.ThrowsAsync<MediaProcessException>(() => MediaProcess.RunAsync(
            "sh", ["-c", "i=0; while [ $i -lt 2000 ]; do echo noise >&2; i=$((i+1)); done; echo last-words >&2; exit 3"], null, output, limits, CancellationToken.None));

        Assert.Equal(MediaProcessFailure.ExitCode, error.Failure);
        Assert.Equal(3, error.ExitCode);
        Assert.True(error.StandardError.Length <= 64);
        Assert.EndsWith("last-words\n", error.StandardError, StringComparison.Ordinal);
    }

    [RequiresToolsFact("sh", "sleep")]
    public async Task A_timeout_kills_the_whole_process_tree()
    {
        var pids = new List<int>();
        var text = new StringBuilder();
        var limits = Quick with { Timeout = TimeSpan.FromSeconds(1) };

        // The child and grandchild print their ids and then sleep far past the timeout.
        var error = await Assert.ThrowsAsync<MediaProcessException>(() => MediaProcess.RunAsync(
            "sh",
            ["-c", "sleep 120 & echo $!; sh -c 'echo $$; exec sleep 120' & wait"],
            null,
            (chunk, _) =>
            {
                text.Append(Encoding.ASCII.GetString(chunk.Span));
                return ValueTask.CompletedTask;
            },
            limits,
            CancellationToken.None));

        Assert.Equal(MediaProcessFailure.TimedOut, error.Failure);
        pids.AddRange(text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)));
        Assert.Equal(2, pids.Count);
        Assert.True(await MediaTools.AllGoneAsync(pids), "A child of the timed-out tool is still running.");
    }

    [RequiresToolsFact("yes")]
    public async Task Output_over_the_cap_stops_the_run()
    {
        long received = 0;
        var limits = Quick with { MaxOutputBytes = 100_000 };

        var error = await Assert.ThrowsAsync<MediaProcessException>(() => MediaProcess.RunAsync(
            "yes", [], null, (chunk, _) => { received += chunk.Length; return ValueTask.CompletedTask; }, limits, CancellationToken.None));

        Assert.Equal(MediaProcessFailure.OutputTooLarge, error.Failure);
        Assert.True(received <= 100_000);
    }

    [RequiresToolsFact("sh", "sleep")]
    public async Task Cancellation_kills_the_tool_and_throws_operation_canceled()
    {
        var pids = new List<int>();
        using var cancel = new CancellationTokenSource();
        var run = MediaProcess.RunAsync(
            "sh",
            ["-c", "echo $$; exec sleep 120"],
            null,
            (chunk, _) =>
            {
                pids.Add(int.Parse(Encoding.ASCII.GetString(chunk.Span).Trim(), CultureInfo.InvariantCulture));
                cancel.Cancel();
                return ValueTask.CompletedTask;
            },
            Quick,
            cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Single(pids);
        Assert.True(await MediaTools.AllGoneAsync(pids));
    }

    [RequiresToolsFact("sh", "sleep")]
    public async Task A_failing_output_sink_stops_the_run_with_its_cause()
    {
        var error = await Assert.ThrowsAsync<MediaProcessException>(() => MediaProcess.RunAsync(
            "sh", ["-c", "echo hello; exec sleep 120"], null, (_, _) => throw new InvalidOperationException("client went away"), Quick, CancellationToken.None));

        Assert.Equal(MediaProcessFailure.PipeFailed, error.Failure);
        Assert.IsType<InvalidOperationException>(error.InnerException);
    }

    [RequiresToolsFact("true")]
    public async Task A_tool_that_never_reads_its_input_does_not_block_the_writer()
    {
        using var input = new MemoryStream(new byte[8 * 1024 * 1024]);
        using var output = new MemoryStream();

        var result = await MediaProcess.RunAsync("true", [], input, output, Quick, CancellationToken.None);

        Assert.Equal(0, result.OutputBytes);
    }

    [RequiresToolsFact("cat")]
    public async Task Streams_input_written_over_time()
    {
        var received = new MemoryStream();
        var firstChunkSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await MediaProcess.RunAsync(
            "cat",
            [],
            async (stdin, ct) =>
            {
                await stdin.WriteAsync("first\n"u8.ToArray(), ct);
                await stdin.FlushAsync(ct);

                // The second chunk is written only once the first came back out: output flows while input is open.
                await firstChunkSeen.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
                await stdin.WriteAsync("second\n"u8.ToArray(), ct);
            },
            (chunk, _) =>
            {
                received.Write(chunk.Span);
                firstChunkSeen.TrySetResult();
                return ValueTask.CompletedTask;
            },
            Quick,
            CancellationToken.None);

        Assert.Equal("first\nsecond\n", Encoding.ASCII.GetString(received.ToArray()));
    }
}
