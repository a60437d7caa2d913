using System.CommandLine;
using Capa.Models.Store;

namespace Capa.Cli.Commands;

/// <summary><c>capa rm ID [--models-dir DIR]</c>: removes a model (and any unfinished download of it) from the store.</summary>
internal static class RmCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The model id as capa list shows it: ORG/NAME, or NAME for a folder directly in the store." };
        var modelsDir = PullCommand.ModelsDirOption();
        var command = new Command("rm", "Remove a model from the model store.") { model, modelsDir };
        command.SetAction((parse, ct) => CliRunner.RunAsync(() =>
        {
            var id = parse.GetValue(model)?.Trim() ?? string.Empty;
            if (!ModelId.IsValidLocal(id, out var invalid))
            {
                throw new CliException(invalid!);
            }

            var store = PullCommand.Run(() => ModelStore.Open(parse.GetValue(modelsDir)));
            bool removed;
            try
            {
                removed = PullCommand.Run(() => store.Remove(id));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"Could not remove '{id}' from {store.Root}: {e.Message}");
            }

            if (!removed)
            {
                throw new CliException($"No model '{id}' in {store.Root} (see capa list).");
            }

            Console.WriteLine($"Removed {id} from {store.Root}");
            return Task.CompletedTask;
        }));
        return command;
    }
}
