using System.CommandLine;
using Capa.Models;
using Capa.Models.Store;
using Capa.Server.Providers.Local;
using Spectre.Console;

namespace Capa.Cli.Commands;

/// <summary>
/// <c>capa list [--models-dir DIR]</c>: the models in the store, as a table, under the ids the server serves them as;
/// folders that are not models are named with the reason.
/// </summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var modelsDir = PullCommand.ModelsDirOption();
        var command = new Command("list", "List the models in the model store.") { modelsDir };
        command.SetAction((parse, ct) => CliRunner.RunAsync(() =>
        {
            var store = PullCommand.Run(() => ModelStore.Open(parse.GetValue(modelsDir)));
            var scan = store.Scan();
            var models = scan.Models;
            foreach (var ignored in scan.Ignored)
            {
                Console.Error.WriteLine($"note: {ignored.Directory} is not listed: {ignored.Reason}.");
            }

            if (models.Count == 0)
            {
                Console.WriteLine($"No models in {store.Root}. Get one with: capa pull {CapaTiny.SuggestedModel}");
                Console.WriteLine($"Until a chat model is installed, capa serve answers with '{CapaTiny.ModelId}', a built-in test model with random weights.");
                return Task.CompletedTask;
            }

            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn("ID")
                .AddColumn(new TableColumn("SIZE").RightAligned())
                .AddColumn("CAPABILITIES")
                .AddColumn("VARIANT")
                .AddColumn("REVISION");
            foreach (var model in models)
            {
                table.AddRow(
                    Markup.Escape(model.Id),
                    ByteSize.Format(model.SizeBytes),
                    Markup.Escape(model.Capabilities.Count == 0 ? "-" : string.Join(", ", model.Capabilities)),
                    model.Variant?.Name() ?? "-",
                    Markup.Escape(model.Revision ?? "(local)"));
            }

            AnsiConsole.Write(table);
            Console.WriteLine($"{models.Count} model(s) in {store.Root}; the API serves each under the ID shown.");
            if (!models.Any(m => m.Capabilities.Contains(ModelCapabilities.Chat)))
            {
                Console.WriteLine($"No chat model: capa serve answers chat with '{CapaTiny.ModelId}', a built-in test model with random weights.");
            }

            if (!models.Any(m => m.Capabilities.Contains(ModelCapabilities.Vision)))
            {
                Console.WriteLine($"No vision model: capa serve answers images with '{CapaTinyVision.ModelId}', a built-in test model with random weights.");
            }
            return Task.CompletedTask;
        }));
        return command;
    }
}
