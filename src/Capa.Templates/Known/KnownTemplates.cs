using System.Collections.Concurrent;
using System.Reflection;
using System.Text;

namespace Capa.Templates;

/// <summary>
/// The real <c>chat_template</c> strings of the model families Capa supports, as published by the model
/// authors in each model's <c>tokenizer_config.json</c> (see <c>Known/README.md</c> for the sources).
/// The texts are embedded byte for byte, so that a test model built from them renders exactly as the real model.
/// </summary>
public static class KnownTemplates
{
    private const string ResourcePrefix = "Capa.Templates.Known.";
    private const string ResourceSuffix = ".jinja";

    private static readonly string[] FamilyNames =
    [
        "qwen2.5", "qwen3", "llama3.1", "llama3.2", "smollm2", "phi3.5", "gemma2", "gemma3",
    ];

    private static readonly ConcurrentDictionary<string, string> Cache = new(StringComparer.Ordinal);

    /// <summary>The family names accepted by <see cref="Get"/>, e.g. <c>qwen2.5</c>, <c>llama3.2</c>, <c>gemma3</c>.</summary>
    public static IReadOnlyList<string> Families { get; } = Array.AsReadOnly(FamilyNames);

    /// <summary>Returns the chat template of <paramref name="family"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="family"/> is null.</exception>
    /// <exception cref="ArgumentException">The family is not one of <see cref="Families"/>.</exception>
    public static string Get(string family)
    {
        ArgumentNullException.ThrowIfNull(family);
        string key = family.Trim().ToLowerInvariant();
        if (Array.IndexOf(FamilyNames, key) < 0)
        {
            throw new ArgumentException(
                $"Unknown chat template family '{family}'. Known families: {string.Join(", ", FamilyNames)}.",
                nameof(family));
        }

        return Cache.GetOrAdd(key, static k => Load(k));
    }

    private static string Load(string family)
    {
        Assembly assembly = typeof(KnownTemplates).Assembly;
        using Stream stream = assembly.GetManifestResourceStream(ResourcePrefix + family + ResourceSuffix)
            ?? throw new InvalidOperationException($"The embedded chat template '{family}' is missing from {assembly.GetName().Name}.");
        // The files carry no BOM; decoding strictly catches a corrupted resource instead of inventing characters.
        using var reader = new StreamReader(stream, new UTF8Encoding(false, true), detectEncodingFromByteOrderMarks: false);
        return reader.ReadToEnd();
    }
}
