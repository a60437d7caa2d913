using System.Text.Json;
using System.Text.RegularExpressions;

namespace Capa.Engine.Embeddings;

/// <summary>
/// The prefixes an asymmetric retrieval encoder was trained with: one before a search query, one before a passage to
/// be found. Part of the model's description, read from its folder (<see cref="Read"/>); applied by the callers that
/// know which side a text is on (vector store ingestion and search). <c>/v1/embeddings</c> embeds what the client sent.
/// </summary>
/// <param name="Query">Put before a search query ("" for none).</param>
/// <param name="Document">Put before a stored passage ("" for none).</param>
public sealed partial record SentencePrompts(string Query, string Document)
{
    /// <summary>No prefixes (symmetric encoders: all-MiniLM, bge used without its optional query instruction).</summary>
    public static SentencePrompts None { get; } = new("", "");

    /// <summary>E5's published rule: <c>query: </c> before queries, <c>passage: </c> before passages.</summary>
    public static SentencePrompts E5 { get; } = new("query: ", "passage: ");

    /// <summary>The prompt names sentence-transformers folders use for the passage side, in order of preference.</summary>
    private static readonly string[] DocumentPromptNames = ["passage", "document", "corpus"];

    /// <summary>Whether any prefix is set.</summary>
    public bool IsEmpty => Query.Length == 0 && Document.Length == 0;

    /// <summary>A query as the model expects it.</summary>
    public string ForQuery(string text) => Query + text;

    /// <summary>A passage as the model expects it.</summary>
    public string ForDocument(string text) => Document + text;

    /// <summary>
    /// The prompts of a model folder: the <c>prompts</c> of sentence-transformers' <c>config_sentence_transformers.json</c>
    /// when it names a <c>query</c> or passage (<c>passage</c>, <c>document</c>, <c>corpus</c>) prompt; else E5's rule
    /// when the model is an E5 retrieval encoder (<c>_name_or_path</c> in <c>config.json</c>, or the folder's own name,
    /// is <c>e5-…</c> / <c>multilingual-e5-…</c>: intfloat publishes its folders without a prompt file, and with
    /// <c>_name_or_path: "tmp/"</c>, so the store's folder name <c>intfloat/multilingual-e5-small</c> is what says it);
    /// else none. E5 instruct and decoder variants take a task instruction, not these prefixes, and get none.
    /// </summary>
    public static SentencePrompts Read(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (ReadSentenceTransformersPrompts(directory) is { } declared)
        {
            return declared;
        }

        var names = new List<string> { Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))) };
        if (ReadNameOrPath(directory) is { } nameOrPath)
        {
            names.Add(Path.GetFileName(nameOrPath.TrimEnd('/', '\\')));
        }

        return names.Any(IsE5Name) ? E5 : None;
    }

    /// <summary>Whether a model name is an E5 retrieval encoder's (e.g. <c>multilingual-e5-small</c>, <c>e5-base-v2</c>, <c>intfloat_multilingual-e5-small</c>).</summary>
    public static bool IsE5Name(string name) =>
        !string.IsNullOrEmpty(name) && E5Name().IsMatch(name) && !name.Contains("instruct", StringComparison.OrdinalIgnoreCase)
            && !name.Contains("mistral", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"(^|[-_.])e5([-_.]|$)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex E5Name();

    private static SentencePrompts? ReadSentenceTransformersPrompts(string directory)
    {
        var path = Path.Combine(directory, "config_sentence_transformers.json");
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var config = JsonDocument.Parse(File.ReadAllText(path));
            if (!config.RootElement.TryGetProperty("prompts", out var prompts) || prompts.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var query = String(prompts, "query");
            var document = DocumentPromptNames.Select(n => String(prompts, n)).FirstOrDefault(p => p is not null);
            return query is null && document is null ? null : new SentencePrompts(query ?? "", document ?? "");
        }
        catch (JsonException)
        {
            return null;
        }

        static string? String(JsonElement prompts, string name) =>
            prompts.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    private static string? ReadNameOrPath(string directory)
    {
        var path = Path.Combine(directory, "config.json");
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var config = JsonDocument.Parse(File.ReadAllText(path));
            return config.RootElement.TryGetProperty("_name_or_path", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
