using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Capa.Media.Processes;

/// <summary>
/// Runs an external media tool (ffmpeg, ffprobe, espeak-ng) hardened for untrusted input: the executable is started
/// directly with an argument list (never through a shell, so no argument is ever interpreted), data flows only
/// through standard input and output pipes, standard output is capped, standard error is kept bounded, and a run
/// that times out, overflows, is cancelled or whose caller fails is killed with its whole process tree. When
/// <see cref="RunAsync(string, IReadOnlyList{string}, Func{Stream, CancellationToken, Task}?, Func{ReadOnlyMemory{byte}, CancellationToken, ValueTask}, MediaProcessLimits, CancellationToken)"/>
/// returns or throws, no process it started is left running.
/// </summary>
public static class MediaProcess
{
    private const int ReadBufferBytes = 64 * 1024;

    /// <summary>Time allowed for a killed tree to be reaped before giving up on waiting for it.</summary>
    private static readonly TimeSpan ReapTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs <paramref name="executable"/> with <paramref name="input"/> copied to its standard input (or an empty,
    /// closed standard input when null) and its standard output copied to <paramref name="output"/>.
    /// </summary>
    public static Task<MediaProcessResult> RunAsync(
        string executable,
        IReadOnlyList<string> arguments,
        Stream? input,
        Stream output,
        MediaProcessLimits limits,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        Func<Stream, CancellationToken, Task>? writeInput = input is null
            ? null
            : (stdin, ct) => input.CopyToAsync(stdin, ReadBufferBytes, ct);
        return RunAsync(executable, arguments, writeInput, (chunk, ct) => output.WriteAsync(chunk, ct), limits, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="executable"/> and streams: <paramref name="writeInput"/> writes the tool's standard input
    /// (closed when it returns; null closes it at once) while every chunk of standard output goes to
    /// <paramref name="output"/> as it arrives, so a caller can feed and forward data as it is produced.
    /// </summary>
    /// <param name="executable">A path or a name on <c>PATH</c>.</param>
    /// <param name="arguments">Arguments, each passed as one argv entry.</param>
    /// <param name="writeInput">Writes standard input; a broken pipe (the tool stopped reading) ends it quietly.</param>
    /// <param name="output">Receives standard output in order; its failure kills the run.</param>
    /// <param name="limits">Time and size bounds.</param>
    /// <param name="cancellationToken">Cancels the run (the tool is killed; <see cref="OperationCanceledException"/> follows).</param>
    /// <returns>The bytes written and the tail of standard error, when the tool exited with status 0.</returns>
    /// <exception cref="MediaProcessException">The tool could not start, exited non-zero, or broke a limit.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<MediaProcessResult> RunAsync(
        string executable,
        IReadOnlyList<string> arguments,
        Func<Stream, CancellationToken, Task>? writeInput,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> output,
        MediaProcessLimits limits,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(executable);
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        cancellationToken.ThrowIfCancellationRequested();

        var toolName = Path.GetFileName(executable);
        var start = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        var stopwatch = Stopwatch.StartNew();
        try
        {
            if (!process.Start())
            {
                throw new MediaProcessException(MediaProcessFailure.StartFailed, $"'{toolName}' could not be started.");
            }
        }
        catch (Win32Exception ex)
        {
            throw new MediaProcessException(MediaProcessFailure.StartFailed, $"'{toolName}' could not be started: {ex.Message}", "", null, ex);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = new RunState(stop);
        var stderr = new BoundedTail(limits.MaxStandardErrorBytes);
        try
        {
            // Killing the tree is what ends every pipe: a read blocked on a pipe does not observe a token by itself.
            using var killOnStop = stop.Token.Register(static state => KillTree((Process)state!), process);
            stop.CancelAfter(limits.Timeout);

            var stdinTask = run.Guard(WriteInputAsync(process.StandardInput.BaseStream, writeInput, stop.Token));
            var stdoutTask = run.Guard(PumpOutputAsync(process.StandardOutput.BaseStream, output, limits.MaxOutputBytes, run, stop.Token));
            var stderrTask = run.Guard(stderr.DrainAsync(process.StandardError.BaseStream));
            await Task.WhenAll(stdinTask, stdoutTask, stderrTask).ConfigureAwait(false);
            await process.WaitForExitAsync(stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException || run.Failure is not null)
        {
            // Decided below from the recorded cause, which is more precise than whichever task threw first.
        }
        finally
        {
            await EnsureGoneAsync(process).ConfigureAwait(false);
        }

        stopwatch.Stop();
        var tail = stderr.ToString();
        if (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        if (run.Failure is { } failure)
        {
            throw failure is OutputLimitException
                ? new MediaProcessException(
                    MediaProcessFailure.OutputTooLarge,
                    string.Create(CultureInfo.InvariantCulture, $"'{toolName}' wrote more than {limits.MaxOutputBytes} bytes and was stopped."),
                    tail)
                : new MediaProcessException(MediaProcessFailure.PipeFailed, $"'{toolName}' failed while its pipes were served: {failure.Message}", tail, null, failure);
        }

        if (stop.IsCancellationRequested)
        {
            throw new MediaProcessException(
                MediaProcessFailure.TimedOut,
                string.Create(CultureInfo.InvariantCulture, $"'{toolName}' did not finish within {limits.Timeout.TotalSeconds:0.###} s and was stopped."),
                tail);
        }

        if (process.ExitCode != 0)
        {
            throw new MediaProcessException(
                MediaProcessFailure.ExitCode,
                string.Create(CultureInfo.InvariantCulture, $"'{toolName}' exited with status {process.ExitCode}."),
                tail,
                process.ExitCode);
        }

        return new MediaProcessResult { OutputBytes = run.OutputBytes, StandardError = tail, Elapsed = stopwatch.Elapsed };
    }

    private static async Task WriteInputAsync(Stream stdin, Func<Stream, CancellationToken, Task>? writeInput, CancellationToken cancellationToken)
    {
        try
        {
            if (writeInput is not null)
            {
                await writeInput(stdin, cancellationToken).ConfigureAwait(false);
                await stdin.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
            // The tool closed its input (it exited, or needs no more): its exit status says whether that was a failure.
        }
        finally
        {
            try
            {
                await stdin.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // Closing a pipe whose reader is gone: nothing left to do.
            }
        }
    }

    private static async Task PumpOutputAsync(
        Stream stdout,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> output,
        long maxBytes,
        RunState run,
        CancellationToken cancellationToken)
    {
        var buffer = new byte[ReadBufferBytes];
        while (true)
        {
            var read = await stdout.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            if (run.OutputBytes + read > maxBytes)
            {
                throw new OutputLimitException();
            }

            run.OutputBytes += read;

            // The sink may keep the memory only until it returns; the buffer is reused for the next read.
            await output(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        catch (Win32Exception)
        {
            // Exited between the check and the signal, or a child could not be signalled: the reap below still waits.
        }
    }

    private static async Task EnsureGoneAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                KillTree(process);
            }

            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(ReapTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A process that survives SIGKILL for this long is stuck in the kernel; nothing more can be done here.
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
    }

    /// <summary>Shared state of one run: the first failure of a pump stops the whole run.</summary>
    private sealed class RunState(CancellationTokenSource stop)
    {
        private Exception? failure;

        public long OutputBytes { get; set; }

        public Exception? Failure => Volatile.Read(ref failure);

        public async Task Guard(Task pump)
        {
            try
            {
                await pump.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The run is stopping for a reason recorded elsewhere (timeout, cancellation, another pump).
            }
            catch (IOException) when (stop.IsCancellationRequested)
            {
                // A pipe broken by the kill.
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref failure, ex, null);
                await stop.CancelAsync().ConfigureAwait(false);
            }
        }
    }

    private sealed class OutputLimitException : Exception
    {
        public OutputLimitException()
            : base("The output limit was reached.")
        {
        }
    }

    /// <summary>Keeps the last bytes of a stream and drops the rest, so diagnostics stay bounded.</summary>
    private sealed class BoundedTail(int capacity)
    {
        private readonly byte[] ring = new byte[capacity];
        private long total;

        public async Task DrainAsync(Stream stream)
        {
            var buffer = new byte[4096];
            int read;

            // No token: the pipe ends when the process tree is killed, and reading to the end is what lets it exit.
            while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                lock (ring)
                {
                    for (var i = 0; i < read && capacity > 0; i++)
                    {
                        ring[(total + i) % capacity] = buffer[i];
                    }

                    total += read;
                }
            }
        }

        public override string ToString()
        {
            lock (ring)
            {
                if (capacity == 0 || total == 0)
                {
                    return "";
                }

                var length = (int)Math.Min(total, capacity);
                var bytes = new byte[length];
                var first = total - length;
                for (var i = 0; i < length; i++)
                {
                    bytes[i] = ring[(first + i) % capacity];
                }

                return System.Text.Encoding.UTF8.GetString(bytes);
            }
        }
    }
}
