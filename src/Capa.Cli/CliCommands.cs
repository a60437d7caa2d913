using System.CommandLine;

namespace Capa.Cli;

/// <summary>The sub-commands of <c>capa</c>, each built by its own class in Commands/.</summary>
internal static class CliCommands
{
    public static IEnumerable<Command> All()
    {
        yield return Commands.ChatCommand.Create();
        yield return Commands.VisionCommand.Create();
        yield return Commands.ServeCommand.Create();
        yield return Commands.TestModelCommand.Create();
        yield return Commands.PullCommand.Create();
        yield return Commands.ListCommand.Create();
        yield return Commands.RmCommand.Create();
        yield return Commands.ReproCommand.Create();
        yield return Commands.JsonCommand.Create();
        yield return Commands.SpeakCommand.Create();
        yield return Commands.TranscribeCommand.Create();
        yield return Commands.ImageCommand.Create();
        yield return Commands.RespondCommand.Create();
        yield return Commands.GptCommand.Create();
    }
}
