using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.Protocol;
using Capa.Protocol.Responses;
using Capa.Protocol.VectorStores;
using Capa.Storage;
using Capa.Storage.Files;
using Capa.Storage.VectorStores;

namespace Capa.Server.VectorStores;

/// <summary>What a <c>file_search</c> tool run gives a response.</summary>
/// <param name="Call">The <c>file_search_call</c> output item.</param>
/// <param name="Context">The excerpts for the model, as a developer message (null when nothing was found).</param>
/// <param name="Citations"><c>file_citation</c> annotations for the files the excerpts come from.</param>
internal sealed record FileSearchOutcome(ResponseItem Call, ResponseItem? Context, IReadOnlyList<JsonElement> Citations);

/// <summary>
/// Runs the Responses API's <c>file_search</c> tool before the model: the user's last message is the query, the
/// vector stores are searched (filters and ranking as the tool says), and the excerpts reach the model as context,
/// numbered so it can refer to them; the files become <c>file_citation</c> annotations on its answer.
/// </summary>
internal sealed class FileSearchRunner(VectorStoreService service)
{
    public async Task<(FileSearchOutcome? Outcome, ApiError? Error)> RunAsync(CreateResponseRequest request, ResponseFileSearchTool tool, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(tool);
        var query = Query(request);
        var (results, error) = await SearchAsync(tool.VectorStoreIds, query, tool.MaxNumResults, tool.Filters, tool.RankingOptions, "tools.vector_store_ids", cancellationToken).ConfigureAwait(false);
        if (results is null)
        {
            return (null, error);
        }

        JsonElement? wireResults = null;
        if (request.Include.Contains("file_search_call.results"))
        {
            var array = new JsonArray();
            foreach (var (hit, file) in results)
            {
                array.Add(new JsonObject
                {
                    ["file_id"] = hit.Chunk.FileId,
                    ["filename"] = file?.Filename ?? "",
                    ["score"] = hit.Score,
                    ["text"] = hit.Chunk.Text,
                    ["attributes"] = JsonNode.Parse(hit.Chunk.AttributesJson),
                });
            }

            wireResults = JsonDocument.Parse(array.ToJsonString()).RootElement.Clone();
        }

        var call = new ResponseItem
        {
            Id = StoreIds.New("fs_"),
            Type = ResponseItemTypes.FileSearchCall,
            Status = ResponseStatuses.Completed,
            Queries = [query],
            Results = wireResults,
        };
        if (results.Count == 0)
        {
            return (new FileSearchOutcome(call, null, []), null);
        }

        var message = new ResponseItem
        {
            Id = StoreIds.NewMessageId(),
            Type = ResponseItemTypes.Message,
            Role = "developer",
            Content = [ResponseContentPart.InputText(ContextText(query, results))],
        };

        var citations = results
            .DistinctBy(r => r.Hit.Chunk.FileId)
            .Select(r => JsonDocument.Parse(new JsonObject
            {
                ["type"] = "file_citation",
                ["file_id"] = r.Hit.Chunk.FileId,
                ["filename"] = r.File?.Filename ?? "",
                ["index"] = 0,
            }.ToJsonString()).RootElement.Clone())
            .ToList();
        return (new FileSearchOutcome(call, message, citations), null);
    }

    /// <summary>
    /// Searches <paramref name="vectorStoreIds"/> for <paramref name="query"/>; a missing store is a 404 naming
    /// <paramref name="param"/>.
    /// </summary>
    public async Task<(IReadOnlyList<(SearchHit Hit, StoredFile? File)>? Results, ApiError? Error)> SearchAsync(
        IReadOnlyList<string> vectorStoreIds, string query, int maxNumResults, VectorStoreFilter? filters, RankingOptions rankingOptions, string param, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vectorStoreIds);
        var store = await service.GetStoreAsync(cancellationToken).ConfigureAwait(false);
        var vectorStores = new List<StoredVectorStore>();
        foreach (var id in vectorStoreIds.Distinct(StringComparer.Ordinal))
        {
            var vectorStore = await store.GetVectorStoreAsync(id, cancellationToken).ConfigureAwait(false);
            if (vectorStore is null)
            {
                return (null, new ApiError(404, $"Vector store with id '{VectorStoreRequestReader.Short(id)}' not found.", ApiError.InvalidRequestType, param));
            }

            vectorStores.Add(vectorStore);
        }

        var results = await service.SearchAsync(vectorStores, new VectorStoreSearchRequest
        {
            Queries = [query],
            MaxNumResults = maxNumResults,
            Filters = filters,
            RankingOptions = rankingOptions,
        }, cancellationToken).ConfigureAwait(false);
        return (results, null);
    }

    /// <summary>Whether any file of these vector stores is still being ingested.</summary>
    public Task<bool> IsIngestingAsync(IReadOnlyList<string> vectorStoreIds, CancellationToken cancellationToken) =>
        service.IsIngestingAsync(vectorStoreIds, cancellationToken);

    /// <summary>The excerpts as the model reads them: numbered, each with its file's name.</summary>
    public static string ContextText(string query, IReadOnlyList<(SearchHit Hit, StoredFile? File)> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var context = new StringBuilder("Excerpts from the user's files found by file search for \"").Append(query).Append("\":\n\n");
        for (var i = 0; i < results.Count; i++)
        {
            context.Append(CultureInfo.InvariantCulture, $"[{i + 1}] {results[i].File?.Filename ?? results[i].Hit.Chunk.FileId}:\n{results[i].Hit.Chunk.Text}\n\n");
        }

        return context.Append("Answer from these excerpts where they are relevant, and say which file you used.").ToString();
    }

    /// <summary>A search query from a question: trimmed, at most 2000 characters, never empty.</summary>
    public static string ToQuery(string? text)
    {
        text = (text ?? "").Trim();
        return text.Length > 2000 ? text[..2000] : text.Length == 0 ? "?" : text;
    }

    /// <summary>The text of the last user message of the input (the question the files should answer).</summary>
    private static string Query(CreateResponseRequest request)
    {
        var user = request.Input.LastOrDefault(i => i.Type == ResponseItemTypes.Message && i.Role == "user");
        return ToQuery((user ?? request.Input.LastOrDefault())?.GetText());
    }
}
