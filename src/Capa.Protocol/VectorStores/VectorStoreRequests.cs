using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol.VectorStores;

/// <summary>How files are cut into chunks: <c>auto</c> (800 tokens, 400 overlap) or <c>static</c>.</summary>
public sealed record ChunkingStrategy
{
    /// <summary><c>auto</c> as stored: OpenAI reports it as the static strategy it stands for.</summary>
    public static ChunkingStrategy Auto { get; } = new() { MaxChunkSizeTokens = 800, ChunkOverlapTokens = 400 };

    /// <summary>Tokens per chunk (100–4096).</summary>
    public required int MaxChunkSizeTokens { get; init; }

    /// <summary>Tokens shared by consecutive chunks (at most half of <see cref="MaxChunkSizeTokens"/>).</summary>
    public required int ChunkOverlapTokens { get; init; }

    /// <summary>The object a file reports: <c>{"type":"static","static":{...}}</c>.</summary>
    public string ToJson() => string.Create(CultureInfo.InvariantCulture,
        $$$"""{"type":"static","static":{"max_chunk_size_tokens":{{{MaxChunkSizeTokens}}},"chunk_overlap_tokens":{{{ChunkOverlapTokens}}}}}""");

    /// <summary>Reads what <see cref="ToJson"/> wrote.</summary>
    public static ChunkingStrategy FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        return VectorStoreRequestReader.TryReadChunking(document.RootElement, "chunking_strategy", out var strategy, out _) ? strategy : Auto;
    }
}

/// <summary>A search filter: a comparison of one attribute, or <c>and</c>/<c>or</c> of filters.</summary>
public sealed record VectorStoreFilter
{
    /// <summary><c>eq</c>, <c>ne</c>, <c>gt</c>, <c>gte</c>, <c>lt</c>, <c>lte</c>, <c>in</c>, <c>nin</c>, <c>and</c> or <c>or</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The attribute compared (comparisons).</summary>
    public string? Key { get; init; }

    /// <summary>The value compared with (comparisons; an array for <c>in</c>/<c>nin</c>).</summary>
    public JsonElement? Value { get; init; }

    /// <summary>The filters combined (compounds).</summary>
    public IReadOnlyList<VectorStoreFilter>? Filters { get; init; }

    /// <summary>Whether a file's attributes pass.</summary>
    public bool Matches(JsonElement attributes)
    {
        switch (Type)
        {
            case "and":
                return Filters!.All(f => f.Matches(attributes));
            case "or":
                return Filters!.Any(f => f.Matches(attributes));
        }

        var has = attributes.ValueKind == JsonValueKind.Object && attributes.TryGetProperty(Key!, out var actual);
        if (!has)
        {
            // A missing attribute equals nothing: only the negative comparisons pass.
            return Type is "ne" or "nin";
        }

        attributes.TryGetProperty(Key!, out actual);
        var value = Value!.Value;
        return Type switch
        {
            "eq" => Equal(actual, value),
            "ne" => !Equal(actual, value),
            "in" => value.EnumerateArray().Any(v => Equal(actual, v)),
            "nin" => !value.EnumerateArray().Any(v => Equal(actual, v)),
            _ => Compare(actual, value) is { } c && Type switch { "gt" => c > 0, "gte" => c >= 0, "lt" => c < 0, _ => c <= 0 },
        };
    }

    private static bool Equal(JsonElement a, JsonElement b) => (a.ValueKind, b.ValueKind) switch
    {
        (JsonValueKind.String, JsonValueKind.String) => a.GetString() == b.GetString(),
        (JsonValueKind.Number, JsonValueKind.Number) => a.GetDouble() == b.GetDouble(),
        (JsonValueKind.True or JsonValueKind.False, JsonValueKind.True or JsonValueKind.False) => a.GetBoolean() == b.GetBoolean(),
        _ => false,
    };

    private static int? Compare(JsonElement a, JsonElement b) => (a.ValueKind, b.ValueKind) switch
    {
        (JsonValueKind.Number, JsonValueKind.Number) => a.GetDouble().CompareTo(b.GetDouble()),
        (JsonValueKind.String, JsonValueKind.String) => string.CompareOrdinal(a.GetString(), b.GetString()),
        _ => null,
    };
}

/// <summary><c>ranking_options</c> of a search.</summary>
public sealed record RankingOptions
{
    /// <summary><c>none</c> (vector similarity only), <c>auto</c> or <c>default-2024-11-15</c> (hybrid).</summary>
    public string Ranker { get; init; } = "auto";

    /// <summary>Results scoring below this (0–1) are dropped.</summary>
    public double ScoreThreshold { get; init; }

    /// <summary>Weight of the embedding ranking in the fusion.</summary>
    public double EmbeddingWeight { get; init; } = 1;

    /// <summary>Weight of the keyword ranking in the fusion.</summary>
    public double TextWeight { get; init; } = 1;
}

/// <summary>A validated search.</summary>
public sealed record VectorStoreSearchRequest
{
    public required IReadOnlyList<string> Queries { get; init; }

    public int MaxNumResults { get; init; } = 10;

    public VectorStoreFilter? Filters { get; init; }

    public RankingOptions RankingOptions { get; init; } = new();

    public bool RewriteQuery { get; init; }
}

/// <summary>Validation of the vector store APIs' inputs, with OpenAI's errors.</summary>
public static class VectorStoreRequestReader
{
    /// <summary>The most files a create may name.</summary>
    public const int MaxCreateFiles = 500;

    /// <summary>The most files a batch may name.</summary>
    public const int MaxBatchFiles = 2000;

    /// <summary>Reads <c>chunking_strategy</c>.</summary>
    public static bool TryReadChunking(JsonElement element, string param, [NotNullWhen(true)] out ChunkingStrategy? strategy, [NotNullWhen(false)] out ApiError? error)
    {
        strategy = null;
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            error = ApiError.InvalidRequest($"Invalid '{param}': expected an object with a 'type' of 'auto' or 'static'.", param, "invalid_type");
            return false;
        }

        switch (type.GetString())
        {
            case "auto":
                strategy = ChunkingStrategy.Auto;
                error = null;
                return true;
            case "static":
                if (!element.TryGetProperty("static", out var s) || s.ValueKind != JsonValueKind.Object
                    || !s.TryGetProperty("max_chunk_size_tokens", out var max) || !max.TryGetInt32(out var maxTokens)
                    || !s.TryGetProperty("chunk_overlap_tokens", out var overlap) || !overlap.TryGetInt32(out var overlapTokens))
                {
                    error = ApiError.InvalidRequest($"Missing required parameter: '{param}.static.max_chunk_size_tokens' and '{param}.static.chunk_overlap_tokens' must be integers.", param + ".static", "missing_required_parameter");
                    return false;
                }

                if (maxTokens is < 100 or > 4096)
                {
                    error = ApiError.InvalidRequest(string.Create(CultureInfo.InvariantCulture, $"Invalid '{param}.static.max_chunk_size_tokens': must be between 100 and 4096, got {maxTokens}."), param + ".static.max_chunk_size_tokens", "integer_out_of_range");
                    return false;
                }

                if (overlapTokens < 0 || overlapTokens > maxTokens / 2)
                {
                    error = ApiError.InvalidRequest(string.Create(CultureInfo.InvariantCulture, $"Invalid '{param}.static.chunk_overlap_tokens': must be between 0 and half of max_chunk_size_tokens ({maxTokens / 2}), got {overlapTokens}."), param + ".static.chunk_overlap_tokens", "integer_out_of_range");
                    return false;
                }

                strategy = new ChunkingStrategy { MaxChunkSizeTokens = maxTokens, ChunkOverlapTokens = overlapTokens };
                error = null;
                return true;
            default:
                error = ApiError.InvalidRequest($"Invalid value: '{Short(type.GetString()!)}'. Supported values are: 'auto' and 'static'.", param + ".type", "invalid_value");
                return false;
        }
    }

    /// <summary>Reads <c>metadata</c>: at most 16 pairs, keys up to 64 and values up to 512 characters.</summary>
    public static bool TryReadMetadata(JsonElement element, [NotNullWhen(false)] out ApiError? error)
    {
        error = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            error = ApiError.InvalidRequest("Invalid type for 'metadata': expected an object.", "metadata", "invalid_type");
            return false;
        }

        var count = 0;
        foreach (var property in element.EnumerateObject())
        {
            if (++count > 16 || property.Name.Length > 64 || property.Value.ValueKind != JsonValueKind.String || property.Value.GetString()!.Length > 512)
            {
                error = ApiError.InvalidRequest("Invalid 'metadata': at most 16 pairs, keys up to 64 characters, string values up to 512 characters.", "metadata", "invalid_value");
                return false;
            }
        }

        return true;
    }

    /// <summary>Reads <c>attributes</c>: at most 16 pairs, keys up to 64 characters, values strings (up to 512), numbers or booleans.</summary>
    public static bool TryReadAttributes(JsonElement element, [NotNullWhen(false)] out ApiError? error)
    {
        error = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            error = ApiError.InvalidRequest("Invalid type for 'attributes': expected an object.", "attributes", "invalid_type");
            return false;
        }

        var count = 0;
        foreach (var property in element.EnumerateObject())
        {
            var ok = ++count <= 16 && property.Name.Length <= 64 && property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString()!.Length <= 512,
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => true,
                _ => false,
            };
            if (!ok)
            {
                error = ApiError.InvalidRequest("Invalid 'attributes': at most 16 pairs, keys up to 64 characters, values strings (up to 512 characters), numbers or booleans.", "attributes", "invalid_value");
                return false;
            }
        }

        return true;
    }

    /// <summary>Reads <c>expires_after</c>: <c>{"anchor":"last_active_at","days":1..365}</c>.</summary>
    public static bool TryReadExpiresAfter(JsonElement element, out long? days, [NotNullWhen(false)] out ApiError? error)
    {
        days = null;
        error = null;
        if (element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("anchor", out var anchor) || anchor.ValueKind != JsonValueKind.String
            || anchor.GetString() != "last_active_at")
        {
            error = ApiError.InvalidRequest("Invalid 'expires_after.anchor': supported values are: 'last_active_at'.", "expires_after.anchor", "invalid_value");
            return false;
        }

        if (!element.TryGetProperty("days", out var d) || !d.TryGetInt64(out var value) || value is < 1 or > 365)
        {
            error = ApiError.InvalidRequest("Invalid 'expires_after.days': must be an integer between 1 and 365.", "expires_after.days", "integer_out_of_range");
            return false;
        }

        days = value;
        return true;
    }

    /// <summary>Reads a list of file ids (<c>file_ids</c>), at most <paramref name="max"/>.</summary>
    public static bool TryReadFileIds(JsonElement element, int max, [NotNullWhen(true)] out List<string>? ids, [NotNullWhen(false)] out ApiError? error)
    {
        ids = null;
        if (element.ValueKind != JsonValueKind.Array || element.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String || e.GetString()!.Length == 0))
        {
            error = ApiError.InvalidRequest("Invalid type for 'file_ids': expected an array of file ids.", "file_ids", "invalid_type");
            return false;
        }

        var count = element.GetArrayLength();
        if (count > max)
        {
            error = ApiError.InvalidRequest(string.Create(CultureInfo.InvariantCulture, $"Invalid 'file_ids': array too long. Expected an array with maximum length {max}, but got an array with length {count} instead."), "file_ids", "array_above_max_length");
            return false;
        }

        ids = [.. element.EnumerateArray().Select(e => e.GetString()!).Distinct(StringComparer.Ordinal)];
        error = null;
        return true;
    }

    /// <summary>Reads a search request.</summary>
    public static bool TryReadSearch(JsonElement root, [NotNullWhen(true)] out VectorStoreSearchRequest? request, [NotNullWhen(false)] out ApiError? error)
    {
        request = null;
        if (!root.TryGetProperty("query", out var query) || query.ValueKind == JsonValueKind.Null)
        {
            error = ApiError.InvalidRequest("Missing required parameter: 'query'.", "query", "missing_required_parameter");
            return false;
        }

        List<string> queries;
        if (query.ValueKind == JsonValueKind.String)
        {
            queries = [query.GetString()!];
        }
        else if (query.ValueKind == JsonValueKind.Array && query.GetArrayLength() > 0 && query.EnumerateArray().All(q => q.ValueKind == JsonValueKind.String))
        {
            queries = [.. query.EnumerateArray().Select(q => q.GetString()!)];
        }
        else
        {
            error = ApiError.InvalidRequest("Invalid type for 'query': expected a string or an array of strings.", "query", "invalid_type");
            return false;
        }

        if (queries.Any(q => q.Trim().Length == 0) || queries.Count > 10)
        {
            error = ApiError.InvalidRequest("Invalid 'query': queries must be non-empty strings, at most 10.", "query", "invalid_value");
            return false;
        }

        var max = 10;
        if (root.TryGetProperty("max_num_results", out var m) && m.ValueKind != JsonValueKind.Null)
        {
            if (!m.TryGetInt32(out max) || max is < 1 or > 50)
            {
                error = ApiError.InvalidRequest("Invalid 'max_num_results': must be an integer between 1 and 50.", "max_num_results", "integer_out_of_range");
                return false;
            }
        }

        VectorStoreFilter? filters = null;
        if (root.TryGetProperty("filters", out var f) && f.ValueKind != JsonValueKind.Null && !TryReadFilter(f, "filters", out filters, out error))
        {
            return false;
        }

        var ranking = new RankingOptions();
        if (root.TryGetProperty("ranking_options", out var r) && r.ValueKind != JsonValueKind.Null && !TryReadRanking(r, "ranking_options", out ranking, out error))
        {
            return false;
        }

        var rewrite = root.TryGetProperty("rewrite_query", out var rw) && rw.ValueKind == JsonValueKind.True;
        if (root.TryGetProperty("rewrite_query", out rw) && rw.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
        {
            error = ApiError.InvalidRequest("Invalid type for 'rewrite_query': expected a boolean.", "rewrite_query", "invalid_type");
            return false;
        }

        request = new VectorStoreSearchRequest { Queries = queries, MaxNumResults = max, Filters = filters, RankingOptions = ranking, RewriteQuery = rewrite };
        error = null;
        return true;
    }

    /// <summary>Reads <c>ranking_options</c> (also the file_search tool's).</summary>
    public static bool TryReadRanking(JsonElement element, string param, [NotNullWhen(true)] out RankingOptions? ranking, [NotNullWhen(false)] out ApiError? error)
    {
        ranking = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            error = ApiError.InvalidRequest($"Invalid type for '{param}': expected an object.", param, "invalid_type");
            return false;
        }

        var result = new RankingOptions();
        if (element.TryGetProperty("ranker", out var ranker) && ranker.ValueKind != JsonValueKind.Null)
        {
            if (ranker.ValueKind != JsonValueKind.String || ranker.GetString() is not ("none" or "auto" or "default-2024-11-15" or "default_2024_08_21"))
            {
                error = ApiError.InvalidRequest("Invalid value for 'ranker'. Supported values are: 'none', 'auto' and 'default-2024-11-15'.", param + ".ranker", "invalid_value");
                return false;
            }

            result = result with { Ranker = ranker.GetString()! };
        }

        if (element.TryGetProperty("score_threshold", out var threshold) && threshold.ValueKind != JsonValueKind.Null)
        {
            if (threshold.ValueKind != JsonValueKind.Number || threshold.GetDouble() is < 0 or > 1)
            {
                error = ApiError.InvalidRequest("Invalid 'score_threshold': must be a number between 0 and 1.", param + ".score_threshold", "invalid_value");
                return false;
            }

            result = result with { ScoreThreshold = threshold.GetDouble() };
        }

        if (element.TryGetProperty("hybrid_search", out var hybrid) && hybrid.ValueKind == JsonValueKind.Object)
        {
            var ew = hybrid.TryGetProperty("embedding_weight", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble() : 1;
            var tw = hybrid.TryGetProperty("text_weight", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : 1;
            if (ew < 0 || tw < 0 || ew + tw <= 0)
            {
                error = ApiError.InvalidRequest("Invalid 'hybrid_search': weights must be non-negative and not both zero.", param + ".hybrid_search", "invalid_value");
                return false;
            }

            result = result with { EmbeddingWeight = ew, TextWeight = tw };
        }

        ranking = result;
        error = null;
        return true;
    }

    /// <summary>Reads a filter (comparison or compound), as in a search or the file_search tool.</summary>
    public static bool TryReadFilter(JsonElement element, string param, [NotNullWhen(true)] out VectorStoreFilter? filter, [NotNullWhen(false)] out ApiError? error)
    {
        filter = null;
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            error = ApiError.InvalidRequest($"Invalid '{param}': expected an object with a 'type'.", param, "invalid_type");
            return false;
        }

        var kind = type.GetString()!;
        switch (kind)
        {
            case "and" or "or":
                if (!element.TryGetProperty("filters", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
                {
                    error = ApiError.InvalidRequest($"Invalid '{param}.filters': expected a non-empty array of filters.", param + ".filters", "invalid_value");
                    return false;
                }

                var filters = new List<VectorStoreFilter>();
                var i = 0;
                foreach (var item in list.EnumerateArray())
                {
                    if (!TryReadFilter(item, string.Create(CultureInfo.InvariantCulture, $"{param}.filters[{i++}]"), out var inner, out error))
                    {
                        return false;
                    }

                    filters.Add(inner);
                }

                filter = new VectorStoreFilter { Type = kind, Filters = filters };
                error = null;
                return true;
            case "eq" or "ne" or "gt" or "gte" or "lt" or "lte" or "in" or "nin":
                if (!element.TryGetProperty("key", out var key) || key.ValueKind != JsonValueKind.String || key.GetString()!.Length == 0)
                {
                    error = ApiError.InvalidRequest($"Missing required parameter: '{param}.key'.", param + ".key", "missing_required_parameter");
                    return false;
                }

                if (!element.TryGetProperty("value", out var value))
                {
                    error = ApiError.InvalidRequest($"Missing required parameter: '{param}.value'.", param + ".value", "missing_required_parameter");
                    return false;
                }

                var valid = kind is "in" or "nin"
                    ? value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind is JsonValueKind.String or JsonValueKind.Number)
                    : kind is "eq" or "ne"
                        ? value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False
                        : value.ValueKind is JsonValueKind.Number or JsonValueKind.String;
                if (!valid)
                {
                    error = ApiError.InvalidRequest($"Invalid '{param}.value' for a '{kind}' comparison.", param + ".value", "invalid_value");
                    return false;
                }

                filter = new VectorStoreFilter { Type = kind, Key = key.GetString(), Value = value.Clone() };
                error = null;
                return true;
            default:
                error = ApiError.InvalidRequest($"Invalid value: '{Short(kind)}'. Supported values are: 'eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'and' and 'or'.", param + ".type", "invalid_value");
                return false;
        }
    }

    /// <summary>The 404 for an unknown vector store.</summary>
    public static ApiError StoreNotFound(string id) => new(404, $"No vector store found with id '{Short(id)}'.", ApiError.InvalidRequestType);

    /// <summary>The 404 for a file not in a vector store.</summary>
    public static ApiError FileNotFound(string vectorStoreId, string fileId) =>
        new(404, $"No file found with id '{Short(fileId)}' in vector store '{Short(vectorStoreId)}'.", ApiError.InvalidRequestType);

    /// <summary>The 404 for an unknown batch.</summary>
    public static ApiError BatchNotFound(string id) => new(404, $"No file batch found with id '{Short(id)}'.", ApiError.InvalidRequestType);

    /// <summary>A value shortened for an error message.</summary>
    public static string Short(string value) => value.Length > 128 ? value[..128] + "..." : value;
}
