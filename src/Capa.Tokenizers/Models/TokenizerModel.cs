using System.Text.Json;
using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.Models;

/// <summary>A tokenizer.json "model": turns one pre-tokenized word into ids.</summary>
internal abstract class TokenizerModel
{
    /// <summary>The model's vocabulary (token to id), without added tokens.</summary>
    public abstract IReadOnlyDictionary<string, int> Vocab { get; }

    /// <summary>The id of the unknown token, when the model has one.</summary>
    public abstract int? UnkId { get; }

    /// <summary>The unknown token's text, when the model names one.</summary>
    public abstract string? UnkToken { get; }

    /// <summary>
    /// Whether one id can stand for any amount of input: runs of unknown characters fused into one unknown id
    /// without byte fallback.
    /// </summary>
    public abstract bool FusesUnknownRuns { get; }

    /// <summary>Appends the ids of <paramref name="word"/> to <paramref name="output"/>.</summary>
    public abstract void Encode(string word, List<int> output);

    /// <summary>Builds the model a tokenizer.json "model" object declares (BPE when it names no type).</summary>
    public static TokenizerModel FromConfig(JsonElement config) => (config.GetString("type") ?? "BPE") switch
    {
        "BPE" => BpeModel.Create(config),
        "Unigram" => UnigramModel.Create(config),
        var type => throw new NotSupportedException($"tokenizer.json model type \"{type}\" is not supported; BPE and Unigram models are."),
    };
}
