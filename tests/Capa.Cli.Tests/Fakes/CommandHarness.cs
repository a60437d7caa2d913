using System.CommandLine;

namespace Capa.Cli.Tests.Fakes;

/// <summary>Runs a command in-process as the <c>capa</c> executable would, with its standard output captured.</summary>
internal static class CommandHarness
{
    public static async Task<(int ExitCode, string Output)> RunAsync(Command command, params string[] args)
    {
        var root = new RootCommand("test") { command };
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = await root.Parse([command.Name, .. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString() + error.ToString());
    }
}
