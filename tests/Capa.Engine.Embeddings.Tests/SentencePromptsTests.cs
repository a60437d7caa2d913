namespace Capa.Engine.Embeddings.Tests;

public sealed class SentencePromptsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("capa-prompts-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Folder(string name, string? nameOrPath = null, string? sentenceTransformers = null)
    {
        var directory = Path.Combine(_root, name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.json"),
            nameOrPath is null ? """{"model_type":"bert"}""" : $$"""{"_name_or_path":"{{nameOrPath}}","model_type":"bert"}""");
        if (sentenceTransformers is not null)
        {
            File.WriteAllText(Path.Combine(directory, "config_sentence_transformers.json"), sentenceTransformers);
        }

        return directory;
    }

    [Fact]
    public void E5_folders_get_query_and_passage_prefixes_by_their_name()
    {
        // intfloat's folder: "_name_or_path": "tmp/" and no prompt file; the store names it intfloat/multilingual-e5-small.
        Assert.Equal(SentencePrompts.E5, SentencePrompts.Read(Folder("multilingual-e5-small", "tmp/")));

        // Xenova's: the original id in _name_or_path, whatever the folder is called.
        Assert.Equal(SentencePrompts.E5, SentencePrompts.Read(Folder("encoder", "intfloat/multilingual-e5-small")));
        Assert.Equal(SentencePrompts.E5, SentencePrompts.Read(Folder("e5-base-v2")));
        Assert.Equal(SentencePrompts.E5, SentencePrompts.Read(Folder("m", "/root/.cache/torch/sentence_transformers/intfloat_multilingual-e5-base/")));
        Assert.Equal("query: hello", SentencePrompts.E5.ForQuery("hello"));
        Assert.Equal("passage: hello", SentencePrompts.E5.ForDocument("hello"));
    }

    [Fact]
    public void Other_encoders_and_e5_instruct_variants_get_none()
    {
        Assert.Equal(SentencePrompts.None, SentencePrompts.Read(Folder("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")));
        Assert.Equal(SentencePrompts.None, SentencePrompts.Read(Folder("bge-small-en-v1.5")));
        Assert.Equal(SentencePrompts.None, SentencePrompts.Read(Folder("multilingual-e5-large-instruct")));
        Assert.Equal(SentencePrompts.None, SentencePrompts.Read(Folder("me5-wb", "tmp/")));
        Assert.True(SentencePrompts.None.IsEmpty);
    }

    [Fact]
    public void Declared_prompts_win_over_the_name_rule()
    {
        var declared = Folder("multilingual-e5-small-custom", sentenceTransformers: """{"prompts":{"query":"Query: ","document":"Document: "},"default_prompt_name":null}""");
        Assert.Equal(new SentencePrompts("Query: ", "Document: "), SentencePrompts.Read(declared));

        // A query prompt alone (Snowflake arctic-embed publishes it so): passages get none.
        Assert.Equal(new SentencePrompts("query: ", ""), SentencePrompts.Read(Folder("arctic", sentenceTransformers: """{"prompts":{"query":"query: "}}""")));

        // "passage" is preferred to the other passage names; an empty or unreadable prompts object falls back to the rule.
        Assert.Equal(new SentencePrompts("q: ", "p: "), SentencePrompts.Read(Folder("x", sentenceTransformers: """{"prompts":{"query":"q: ","corpus":"c: ","passage":"p: "}}""")));
        Assert.Equal(SentencePrompts.E5, SentencePrompts.Read(Folder("e5-small", sentenceTransformers: """{"prompts":{}}""")));
        Assert.Equal(SentencePrompts.E5, SentencePrompts.Read(Folder("e5-large", sentenceTransformers: "{not json")));
    }
}
