using System.ClientModel;

namespace Capa.Cli.Commands;

/// <summary>Runs a command body and turns the failures a user can act on into one line and an exit code.</summary>
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
        catch (ClientResultException e)
        {
            Console.Error.WriteLine($"error: the server answered {e.Status}: {e.Message}");
            return 1;
        }
        catch (HttpRequestException e)
        {
            Console.Error.WriteLine($"error: could not reach the server: {e.Message}");
            return 1;
        }
    }
}
