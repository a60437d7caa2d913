using System.Text.Json;
using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.PostProcessors;

/// <summary>A tokenizer.json post-processor: adds a model's special tokens (BOS, CLS/SEP) around one sequence.</summary>
internal abstract class PostProcessor
{
    /// <summary>Returns the ids of a single sequence with the special tokens added.</summary>
    public abstract List<int> Process(List<int> ids);

    /// <summary>Builds the post-processor a tokenizer.json "post_processor" object declares (null when absent).</summary>
    public static PostProcessor? Create(JsonElement config, Func<string, int?> tokenToId)
    {
        if (config.IsNullOrMissing())
        {
            return null;
        }

        string type = JsonConfig.TypeOf(config, "post_processor");
        return type switch
        {
            "TemplateProcessing" => TemplateProcessor.FromConfig(config, tokenToId),
            "ByteLevel" => null,
            "BertProcessing" or "RobertaProcessing" => new WrapProcessor(ReadPair(config, "cls"), ReadPair(config, "sep")),
            "Sequence" => new SequenceProcessor(ReadList(config, tokenToId)),
            _ => throw new NotSupportedException($"tokenizer.json post_processor type \"{type}\" is not supported."),
        };
    }

    private static int ReadPair(JsonElement config, string name)
    {
        var pair = config.Get(name);
        if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2)
        {
            throw new FormatException($"post_processor \"{name}\" must be [token, id].");
        }

        return pair[1].GetInt32();
    }

    private static List<PostProcessor> ReadList(JsonElement config, Func<string, int?> tokenToId)
    {
        var list = new List<PostProcessor>();
        var items = config.Get("processors");
        if (items.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in items.EnumerateArray())
            {
                if (Create(item, tokenToId) is { } processor)
                {
                    list.Add(processor);
                }
            }
        }

        return list;
    }
}

/// <summary>TemplateProcessing's "single" template: special tokens and $A in order.</summary>
internal sealed class TemplateProcessor(List<int[]?> pieces) : PostProcessor
{
    public static TemplateProcessor FromConfig(JsonElement config, Func<string, int?> tokenToId)
    {
        var single = config.Get("single");
        if (single.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("TemplateProcessing needs a \"single\" template.");
        }

        var specials = config.Get("special_tokens");
        var pieces = new List<int[]?>();
        foreach (var item in single.EnumerateArray())
        {
            if (item.TryGetProperty("Sequence", out _))
            {
                pieces.Add(null);
            }
            else if (item.TryGetProperty("SpecialToken", out var special))
            {
                string name = special.GetString("id") ?? throw new FormatException("TemplateProcessing SpecialToken needs an \"id\".");
                var declared = specials.Get(name).Get("ids");
                if (declared.ValueKind == JsonValueKind.Array)
                {
                    pieces.Add([.. declared.EnumerateArray().Select(e => e.GetInt32())]);
                }
                else
                {
                    pieces.Add([tokenToId(name) ?? throw new FormatException($"TemplateProcessing names \"{name}\", which is not a token.")]);
                }
            }
            else
            {
                throw new FormatException("TemplateProcessing items must be {\"Sequence\": ...} or {\"SpecialToken\": ...}.");
            }
        }

        return new TemplateProcessor(pieces);
    }

    public override List<int> Process(List<int> ids)
    {
        var output = new List<int>(ids.Count + pieces.Count);
        foreach (var piece in pieces)
        {
            if (piece is null)
            {
                output.AddRange(ids);
            }
            else
            {
                output.AddRange(piece);
            }
        }

        return output;
    }
}

/// <summary>BertProcessing / RobertaProcessing for one sequence: [CLS] A [SEP].</summary>
internal sealed class WrapProcessor(int cls, int sep) : PostProcessor
{
    public override List<int> Process(List<int> ids)
    {
        var output = new List<int>(ids.Count + 2) { cls };
        output.AddRange(ids);
        output.Add(sep);
        return output;
    }
}

internal sealed class SequenceProcessor(List<PostProcessor> steps) : PostProcessor
{
    public override List<int> Process(List<int> ids)
    {
        foreach (var step in steps)
        {
            ids = step.Process(ids);
        }

        return ids;
    }
}
