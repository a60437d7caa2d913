namespace Capa.Engine.Text.Tests.Tools;

/// <summary>A fact that is skipped, saying why, when ../shared/reference/qwen3-tokenizer is absent (a fresh clone).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresQwen3TokenizerFactAttribute : FactAttribute
{
    public RequiresQwen3TokenizerFactAttribute()
    {
        if (Folder is null)
        {
            Skip = "Skipped: the reference folder ../shared/reference/qwen3-tokenizer is not present on this machine.";
        }
    }

    /// <summary>The reference tokenizer folder beside the repository, or null.</summary>
    public static string? Folder { get; } = Find();

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Capa.slnx")))
            {
                var folder = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "reference", "qwen3-tokenizer"));
                return File.Exists(Path.Combine(folder, "vocab.json")) && File.Exists(Path.Combine(folder, "merges.txt")) ? folder : null;
            }
        }

        return null;
    }
}
