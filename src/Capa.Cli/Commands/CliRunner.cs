namespace Capa.Cli.Commands;

/// <summary>
/// Runs a command body and turns the failures a user can act on into one line and an exit code. Calls to an endpoint
/// go through <see cref="Repro.EndpointErrors"/>, which turns the SDK's failures into <see cref="CliException"/>s.
/// </summary>
internal static class CliRunner
{
    public static async Task<int> RunAsync(Func<Task> body)
    {
        try
        {
            await body().ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Cancelled.");
            return 130;
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
