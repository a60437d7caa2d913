using System.Text.Json;
using Capa.Models.Config;
using Capa.Tokenizers;

namespace Capa.Engine.Whisper;

/// <summary>Whisper's special token ids and decoding lists, read from generation_config.json, config.json and the tokenizer.</summary>
public sealed record WhisperTokens
{
    /// <summary><c>&lt;|endoftext|&gt;</c>; every id below it is text.</summary>
    public required int EndOfText { get; init; }

    /// <summary><c>&lt;|startoftranscript|&gt;</c>.</summary>
    public required int StartOfTranscript { get; init; }

    /// <summary><c>&lt;|startofprev|&gt;</c>, which opens a prompt; null where the tokenizer lacks it.</summary>
    public int? StartOfPrevious { get; init; }

    /// <summary><c>&lt;|startoflm|&gt;</c>, when present.</summary>
    public int? StartOfLm { get; init; }

    /// <summary><c>&lt;|nospeech|&gt;</c> (or <c>&lt;|nocaptions|&gt;</c> in older tokenizers), when present.</summary>
    public int? NoSpeech { get; init; }

    /// <summary><c>&lt;|notimestamps|&gt;</c>.</summary>
    public required int NoTimestamps { get; init; }

    /// <summary><c>&lt;|0.00|&gt;</c>: every id from here on is a timestamp (0.02 s apart).</summary>
    public int TimestampBegin => NoTimestamps + 1;

    /// <summary><c>&lt;|transcribe|&gt;</c>.</summary>
    public required int Transcribe { get; init; }

    /// <summary><c>&lt;|translate|&gt;</c>.</summary>
    public required int Translate { get; init; }

    /// <summary>Language code → token id; empty for English-only models.</summary>
    public required IReadOnlyDictionary<string, int> Languages { get; init; }

    /// <summary>Whether the model takes language and task tokens.</summary>
    public bool IsMultilingual => Languages.Count > 0;

    /// <summary>Tokens never sampled (generation_config <c>suppress_tokens</c> plus the task and sequence tokens).</summary>
    public required IReadOnlyList<int> Suppress { get; init; }

    /// <summary>Tokens not sampled first (<c>begin_suppress_tokens</c>: " " and end of text).</summary>
    public required IReadOnlyList<int> BeginSuppress { get; init; }

    /// <summary>The latest timestamp index the first sampled token may take (50 = 1.00 s).</summary>
    public int MaxInitialTimestampIndex { get; init; } = 50;

    /// <summary>[layer, head] pairs whose cross-attention follows the audio (for word timestamps).</summary>
    public IReadOnlyList<(int Layer, int Head)> AlignmentHeads { get; init; } = [];

    internal static WhisperTokens Create(HfTokenizer tokenizer, JsonElement generation, JsonElement config, string directory)
    {
        int Required(string name, params string[] tokens)
        {
            foreach (JsonElement source in new[] { generation, config })
            {
                if (source.TryGetProperty(name, out JsonElement value))
                {
                    if (value.ValueKind == JsonValueKind.Number)
                    {
                        return value.GetInt32();
                    }

                    if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0)
                    {
                        return value[0].GetInt32();
                    }
                }
            }

            foreach (string token in tokens)
            {
                if (tokenizer.TokenToId(token) is { } id)
                {
                    return id;
                }
            }

            throw new ModelFolderException($"'{directory}' defines no {name} ({string.Join(" / ", tokens)}) in generation_config.json, config.json or its tokenizer.");
        }

        int? Optional(params string[] tokens) => tokens.Select(tokenizer.TokenToId).FirstOrDefault(id => id is not null);

        var languages = new Dictionary<string, int>(StringComparer.Ordinal);
        if (generation.TryGetProperty("lang_to_id", out JsonElement langToId) && langToId.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty language in langToId.EnumerateObject())
            {
                string code = language.Name.Trim('<', '>', '|');
                languages[code] = language.Value.GetInt32();
            }
        }

        int TaskId(string task)
        {
            if (generation.TryGetProperty("task_to_id", out JsonElement tasks) && tasks.TryGetProperty(task, out JsonElement id))
            {
                return id.GetInt32();
            }

            return tokenizer.TokenToId("<|" + task + "|>") ?? throw new ModelFolderException($"'{directory}' has no <|{task}|> token.");
        }

        int eot = Required("eos_token_id", "<|endoftext|>");
        int sot = Required("decoder_start_token_id", "<|startoftranscript|>");
        int noTimestamps = Required("no_timestamps_token_id", "<|notimestamps|>");
        int transcribe = TaskId("transcribe"), translate = TaskId("translate");
        int? startOfPrevious = generation.TryGetProperty("prev_sot_token_id", out JsonElement prev) && prev.ValueKind == JsonValueKind.Number
            ? prev.GetInt32()
            : Optional("<|startofprev|>");
        int? startOfLm = Optional("<|startoflm|>");
        int? noSpeech = Optional("<|nospeech|>", "<|nocaptions|>");

        var suppress = new SortedSet<int>(Ids(generation, "suppress_tokens") ?? Ids(config, "suppress_tokens") ?? []);
        // openai/whisper suppresses the task and sequence tokens in every step besides the configured list.
        foreach (int? id in new int?[] { transcribe, translate, sot, startOfPrevious, startOfLm, noSpeech })
        {
            if (id is { } value)
            {
                suppress.Add(value);
            }
        }

        int[] beginSuppress = Ids(generation, "begin_suppress_tokens") ?? Ids(config, "begin_suppress_tokens") ?? [.. tokenizer.Encode(" "), eot];
        var heads = new List<(int, int)>();
        if (generation.TryGetProperty("alignment_heads", out JsonElement alignment) && alignment.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement pair in alignment.EnumerateArray())
            {
                if (pair.ValueKind == JsonValueKind.Array && pair.GetArrayLength() == 2)
                {
                    heads.Add((pair[0].GetInt32(), pair[1].GetInt32()));
                }
            }
        }

        return new WhisperTokens
        {
            EndOfText = eot,
            StartOfTranscript = sot,
            StartOfPrevious = startOfPrevious,
            StartOfLm = startOfLm,
            NoSpeech = noSpeech,
            NoTimestamps = noTimestamps,
            Transcribe = transcribe,
            Translate = translate,
            Languages = languages,
            Suppress = [.. suppress.Where(id => id >= 0)],
            BeginSuppress = beginSuppress,
            MaxInitialTimestampIndex = generation.TryGetProperty("max_initial_timestamp_index", out JsonElement max) && max.ValueKind == JsonValueKind.Number ? max.GetInt32() : 50,
            AlignmentHeads = heads,
        };
    }

    private static int[]? Ids(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.Number).Select(v => v.GetInt32())]
            : null;
}
