namespace Capa.Cli.Commands;

/// <summary>
/// Runs a command body and turns the failures a user can act on into one line and an exit code. Calls to an endpoint
/// go through <see cref="Repro.EndpointErrors"/>, which turns the SDK's failures into <see cref="CliException"/>s.
/// </summary>
internal static class CliRunner
{
    public static Task<int> RunAsync(Func<Task> body) => RunAsync(body, Console.Error, TerminalText.IsTerminal);

    /// <param name="body">The command's work.</param>
    /// <param name="error">Where the one line goes (the invocation's error writer).</param>
    /// <param name="isTerminal">Whether a writer shows text on a terminal.</param>
    public static async Task<int> RunAsync(Func<Task> body, TextWriter error, Func<TextWriter, bool> isTerminal)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            await body().ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("Cancelled.").ConfigureAwait(false);
            return 130;
        }
        catch (CliException e)
        {
            // The message may quote a server's words (an error body, a model id): never let them drive the terminal.
            await error.WriteLineAsync($"error: {TerminalText.For(error, isTerminal)(e.Message)}").ConfigureAwait(false);
            return 1;
        }
    }
}
