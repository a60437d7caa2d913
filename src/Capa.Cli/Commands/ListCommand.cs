using System.CommandLine;
using Capa.Engine.Models;
using Capa.Engine.Models.Store;
using Spectre.Console;

namespace Capa.Cli.Commands;

/// <summary><c>capa list [--models-dir DIR]</c>: the models in the store, as a table.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var modelsDir = PullCommand.ModelsDirOption();
        var command = new Command("list", "List the models in the model store.") { modelsDir };
        command.SetAction((parse, ct) => CliRunner.RunAsync(() =>
        {
            var store = PullCommand.Run(() => ModelStore.Open(parse.GetValue(modelsDir)));
            var models = store.List();
            if (models.Count == 0)
            {
                Console.WriteLine($"No models in {store.Root}. Get one with: capa pull onnx-community/Qwen2.5-0.5B-Instruct");
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
            Console.WriteLine($"{models.Count} model(s) in {store.Root}");
            return Task.CompletedTask;
        }));
        return command;
    }
}
