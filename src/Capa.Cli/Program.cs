using System.CommandLine;
using Capa.Cli;

var root = new RootCommand("Capa: OpenAI's API capabilities, self-hosted.");
foreach (var command in CliCommands.All())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
