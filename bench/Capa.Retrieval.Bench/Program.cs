using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Capa.Engine.Embeddings;
using Capa.Protocol.VectorStores;
using Capa.Server.VectorStores;
using Capa.Storage;
using Capa.Storage.VectorStores;
using Capa.TestModels.Embeddings;

// Retrieval at multilingual-e5-small's shapes (12 layers, 384 wide, 250037-piece Unigram vocabulary, random weights):
//   1. embedding throughput, Capa's SentenceEncoder vs transformers.js feature-extraction on the same folder and texts,
//      interleaved processes (A B A B), as a ratio;
//   2. ingestion into a vector store (embed + store, chunks/s) and search latency (query embedding, reading the
//      vectors and the keyword index, hybrid ranking, reading the winners' texts) at --chunks chunks, on SQLite, or on
//      PostgreSQL with --postgres CONNECTION_STRING (an empty database).
// Usage: dotnet run -c Release --project bench/Capa.Retrieval.Bench -- [--rounds 3] [--texts 64] [--chunks 10000]
//        [--embed-chunks 1000] [--queries 50] [--model DIR (written there when empty)] [--postgres CS] [--skip-throughput]
//        [--skip-search]
// Chunks past --embed-chunks reuse the embedded chunks' vectors (stored, not embedded), so a large store fills quickly.
var rounds = IntArg("--rounds", 3);
var textCount = IntArg("--texts", 64);
var chunkCount = IntArg("--chunks", 10_000);
var embedChunks = Math.Min(chunkCount, IntArg("--embed-chunks", 1000));
var queryCount = IntArg("--queries", 50);
var root = FindRoot();
var work = Directory.CreateTempSubdirectory("capa-retrieval-bench-").FullName;
try
{
    var model = Arg("--model") ?? Path.Combine(work, "e5-small-shaped");
    if (!File.Exists(Path.Combine(model, "config.json")))
    {
        var write = Stopwatch.StartNew();
        XlmRobertaEncoderWriter.Write(BertEncoderSpec.Small(layers: 12), model, XlmRobertaEncoderWriter.E5SmallVocabularySize);
        Console.Error.WriteLine($"wrote the e5-small-shaped folder in {write.Elapsed.TotalSeconds:F0} s");
    }

    var words = File.ReadAllText(Path.Combine(root, "src", "Capa.TestModels", "Corpus.txt"))
        .Split([' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);
    var texts = Passages(words, textCount, 90, seed: 1);
    var textsPath = Path.Combine(work, "texts.json");
    File.WriteAllText(textsPath, JsonSerializer.Serialize(texts));

    // The realistic mix: document chunks of varied length (20 to 120 words, within the 512-token limit both keep) with short queries (8 words) among them, in
    // arrival order. Capa sorts a request's texts by length before batching; transformers.js pads each batch to its longest.
    var mixedRandom = new Random(4);
    var mixed = Enumerable.Range(0, textCount)
        .Select(i => Passages(words, 1, i % 4 == 3 ? 8 : mixedRandom.Next(20, 121), seed: 100 + i)[0]).ToList();
    var mixedPath = Path.Combine(work, "mixed.json");
    File.WriteAllText(mixedPath, JsonSerializer.Serialize(mixed));

    using var encoder = SentenceEncoder.Load(model);
    var tokens = texts.Sum(t => encoder.Tokenize(t).Length);
    var mixedTokens = mixed.Select(t => encoder.Tokenize(t).Length).ToList();
    encoder.Encode(texts.Take(2).ToList());
    var capa = new List<double>();
    var node = new List<double>();
    var capaMixed = new List<double>();
    var nodeMixed = new List<double>();
    if (args.Contains("--skip-throughput"))
    {
        rounds = 0;
    }

    // Interleaved: Capa and transformers.js on the equal-length texts, then both on the mix, each round.
    for (var r = 0; r < rounds; r++)
    {
        var clock = Stopwatch.StartNew();
        encoder.Encode(texts);
        capa.Add(texts.Count / clock.Elapsed.TotalSeconds);
        node.Add(RunNode(root, model, textsPath));
        clock.Restart();
        encoder.Encode(mixed);
        capaMixed.Add(mixed.Count / clock.Elapsed.TotalSeconds);
        nodeMixed.Add(RunNode(root, model, mixedPath));
        Console.Error.WriteLine($"round {r + 1}: equal Capa {capa[^1]:F2} / transformers.js {node[^1]:F2} texts/s; mixed Capa {capaMixed[^1]:F2} / transformers.js {nodeMixed[^1]:F2} texts/s");
    }

    if (rounds > 0)
    {
        var padded = PaddedTokens(mixedTokens, 16);
        Console.WriteLine($"Embedding throughput, batches of 16, {rounds} interleaved rounds (Capa, transformers.js, Capa, transformers.js per round):");
        Console.WriteLine($"- equal: {texts.Count} texts of 90 words ({tokens / (double)texts.Count:F0} tokens each on average)");
        Console.WriteLine($"- mixed: {mixed.Count} texts, every fourth a query of 8 words, the others chunks of 20–120 words ({mixedTokens.Min()}–{mixedTokens.Max()} tokens, {mixedTokens.Average():F0} on average); "
            + $"tokens run including padding: {padded.InOrder} batched in arrival order, {padded.Sorted} sorted by length ({padded.InOrder / (double)padded.Sorted:F2}×)");
        Console.WriteLine();
        Console.WriteLine("| workload | runtime | texts/s median | range | ratio (Capa / transformers.js), median of rounds |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (name, c, n) in new[] { ("equal", capa, node), ("mixed", capaMixed, nodeMixed) })
        {
            var ratios = c.Zip(n, (x, y) => x / y).ToList();
            Console.WriteLine($"| {name} | Capa (SentenceEncoder) | {Median(c):F2} | {c.Min():F2}–{c.Max():F2} | {Median(ratios):F2}× ({ratios.Min():F2}–{ratios.Max():F2}) |");
            Console.WriteLine($"| {name} | transformers.js 4.3.1 feature-extraction | {Median(n):F2} | {n.Min():F2}–{n.Max():F2} | |");
        }

        Console.WriteLine();
    }

    if (args.Contains("--skip-search"))
    {
        return;
    }

    // Ingestion and search on SQLite or PostgreSQL.
    var chunkTexts = Passages(words, chunkCount, 60, seed: 2).Select((t, i) => $"{t} doc{i:D6}").ToList();
    var postgres = Arg("--postgres");
    var engine = postgres is null ? "SQLite (WAL)" : "PostgreSQL";
    var store = (IVectorStoreStore)(postgres is null ? ResponseStores.CreateSqlite(Path.Combine(work, "state.db")) : ResponseStores.CreatePostgres(postgres));
    await using (store as IAsyncDisposable)
    {
        await store.InitializeAsync(CancellationToken.None);
        const string StoreId = "vs_bench";
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await store.CreateVectorStoreAsync(new StoredVectorStore { Id = StoreId, CreatedAt = now, MetadataJson = "{}", LastActiveAt = now, EmbeddingModel = "e5" }, [], CancellationToken.None);
        const int PerFile = 50;
        var files = (chunkCount + PerFile - 1) / PerFile;
        var vectors = new List<float[]>();
        var ingest = Stopwatch.StartNew();
        var fill = new Stopwatch();
        var embedded = 0;
        for (var f = 0; f < files; f++)
        {
            var slice = chunkTexts.Skip(f * PerFile).Take(PerFile).ToList();
            float[][] sliceVectors;
            if (embedded < embedChunks)
            {
                sliceVectors = encoder.Encode(slice);
                vectors.AddRange(sliceVectors);
                embedded += slice.Count;
                if (embedded >= embedChunks)
                {
                    ingest.Stop();
                    fill.Start();
                }
            }
            else
            {
                sliceVectors = [.. slice.Select((_, i) => vectors[((f * PerFile) + i) % vectors.Count])];
            }

            var fileId = $"file-{f:D6}";
            await store.AddFilesAsync(StoreId, null, [new StoredVectorStoreFile { VectorStoreId = StoreId, FileId = fileId, CreatedAt = now, Status = VectorStoreFileStatuses.InProgress, AttributesJson = "{}", ChunkingJson = "{}" }], CancellationToken.None);
            await store.CompleteFileAsync(StoreId, fileId, [.. slice.Select((t, i) => new StoredChunk(i, t, sliceVectors[i]))], 0, CancellationToken.None);
        }

        ingest.Stop();
        fill.Stop();
        var ingestRate = embedded / ingest.Elapsed.TotalSeconds;
        var storeRate = (chunkCount - embedded) / Math.Max(fill.Elapsed.TotalSeconds, 1e-9);

        var queries = Passages(words, queryCount, 8, seed: 3);
        var embed = new List<double>();
        var read = new List<double>();
        var keywordRead = new List<double>();
        var rank = new List<double>();
        var texts2 = new List<double>();
        var total = new List<double>();
        var previous = new List<double>();
        var previousRead = new List<double>();

        // The first search loads the store's vectors into memory; later ones read one version row instead.
        var cold = Stopwatch.StartNew();
        var loaded = await store.GetVectorBlocksAsync([StoreId], CancellationToken.None);
        var coldMs = cold.Elapsed.TotalMilliseconds;
        for (var q = 0; q < queries.Count; q++)
        {
            // Interleaved, the path before the vectors were kept in memory: every vector read from the database per search.
            var before = Stopwatch.StartNew();
            var oldVector = encoder.Encode([queries[q]]);
            var r0 = before.Elapsed.TotalMilliseconds;
            var fromDatabase = await store.GetChunkVectorsAsync([StoreId], CancellationToken.None);
            previousRead.Add(before.Elapsed.TotalMilliseconds - r0);
            var oldKeywords = await store.GetKeywordStatisticsAsync([StoreId], [.. KeywordTerms.Split(queries[q]).Distinct(StringComparer.Ordinal)], CancellationToken.None);
            var oldRanked = HybridSearch.Rank([ChunkVectorBlock.From(fromDatabase)], null, oldKeywords, oldVector, [queries[q]], new RankingOptions(), 10);
            var oldHits = await store.GetChunksAsync([.. oldRanked.Select(r => r.Key)], CancellationToken.None);
            previous.Add(before.Elapsed.TotalMilliseconds);

            // The steps VectorStoreService.SearchAsync takes.
            var clock = Stopwatch.StartNew();
            var queryVector = encoder.Encode([queries[q]]);
            var t1 = clock.Elapsed.TotalMilliseconds;
            var blocks = await store.GetVectorBlocksAsync([StoreId], CancellationToken.None);
            var t2 = clock.Elapsed.TotalMilliseconds;
            var keywords = await store.GetKeywordStatisticsAsync([StoreId], [.. KeywordTerms.Split(queries[q]).Distinct(StringComparer.Ordinal)], CancellationToken.None);
            var t3 = clock.Elapsed.TotalMilliseconds;
            var ranked = HybridSearch.Rank(blocks, null, keywords, queryVector, [queries[q]], new RankingOptions(), 10);
            var t4 = clock.Elapsed.TotalMilliseconds;
            var hits = await store.GetChunksAsync([.. ranked.Select(r => r.Key)], CancellationToken.None);
            var t5 = clock.Elapsed.TotalMilliseconds;
            if (hits.Count == 0 || blocks.Sum(b => b.Count) != chunkCount || keywords.ChunkCount != chunkCount || !ReferenceEquals(blocks[0], loaded[0]))
            {
                throw new InvalidOperationException($"search {q} found {hits.Count} hits among {blocks.Sum(b => b.Count)} chunks ({keywords.ChunkCount} indexed), cached: {ReferenceEquals(blocks[0], loaded[0])}");
            }

            // The same ranking from memory as from the database: ids and scores.
            if (!ranked.Select(r => (r.Key, r.Score)).SequenceEqual(oldRanked.Select(r => (r.Key, r.Score))) || oldHits.Count != hits.Count)
            {
                throw new InvalidOperationException($"search {q} ranked differently from memory than from the database");
            }

            embed.Add(t1);
            read.Add(t2 - t1);
            keywordRead.Add(t3 - t2);
            rank.Add(t4 - t3);
            texts2.Add(t5 - t4);
            total.Add(t5);
        }

        Console.WriteLine($"Vector store on {engine}, {chunkCount} chunks of ~60 words, {PerFile} chunks per file:");
        Console.WriteLine();
        Console.WriteLine("| stage | result |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| ingestion, embed + store (first {embedded} chunks) | {ingestRate:F1} chunks/s |");
        Console.WriteLine($"| store only (the other {chunkCount - embedded} chunks, vectors reused) | {storeRate:F0} chunks/s |");
        Console.WriteLine($"| first search's load of the vectors into memory | {coldMs:F1} ms |");
        Console.WriteLine($"| search end to end, {queries.Count} queries: p50 / p99 | {P(total, 0.5):F1} / {P(total, 0.99):F1} ms |");
        Console.WriteLine($"| the previous path, interleaved (every vector read from the database per search): p50 / p99 | {P(previous, 0.5):F1} / {P(previous, 0.99):F1} ms |");
        Console.WriteLine($"| of which query embedding p50 / p99 | {P(embed, 0.5):F1} / {P(embed, 0.99):F1} ms |");
        Console.WriteLine($"| of which the vectors (version check, from memory) p50 / p99 | {P(read, 0.5):F2} / {P(read, 0.99):F2} ms |");
        Console.WriteLine($"| (the previous path's read of the vectors from the database p50 / p99) | {P(previousRead, 0.5):F1} / {P(previousRead, 0.99):F1} ms |");
        Console.WriteLine($"| of which reading the query terms' postings and statistics p50 / p99 | {P(keywordRead, 0.5):F1} / {P(keywordRead, 0.99):F1} ms |");
        Console.WriteLine($"| of which hybrid ranking (cosine + BM25 + fusion) p50 / p99 | {P(rank, 0.5):F1} / {P(rank, 0.99):F1} ms |");
        Console.WriteLine($"| of which reading the 10 winners' texts p50 / p99 | {P(texts2, 0.5):F1} / {P(texts2, 0.99):F1} ms |");
    }
}
finally
{
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    Directory.Delete(work, recursive: true);
}

static List<string> Passages(string[] words, int count, int length, int seed)
{
    var random = new Random(seed);
    var passages = new List<string>(count);
    for (var i = 0; i < count; i++)
    {
        var start = random.Next(words.Length);
        var builder = new StringBuilder();
        for (var w = 0; w < length; w++)
        {
            builder.Append(words[(start + w) % words.Length]).Append(' ');
        }

        passages.Add(builder.ToString().TrimEnd());
    }

    return passages;
}

// Tokens the encoder runs, padding included, for batches of the texts in arrival order and sorted by length.
static (long InOrder, long Sorted) PaddedTokens(List<int> lengths, int batch)
{
    static long Padded(IEnumerable<int> ordered, int batch) => ordered.Chunk(batch).Sum(b => (long)b.Max() * b.Length);
    return (Padded(lengths, batch), Padded(lengths.Order(), batch));
}

static double RunNode(string root, string model, string textsPath)
{
    var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = root };
    foreach (var argument in new[] { Path.Combine(root, "bench", "embeddings-transformers-js.mjs"), model, textsPath, "16" })
    {
        start.ArgumentList.Add(argument);
    }

    using var process = Process.Start(start)!;
    var stdout = process.StandardOutput.ReadToEndAsync();
    var stderr = process.StandardError.ReadToEndAsync();
    if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
    {
        process.Kill(entireProcessTree: true);
        throw new TimeoutException("transformers.js did not finish within 10 minutes.");
    }

    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"transformers.js failed: {stderr.Result}");
    }

    using var result = JsonDocument.Parse(stdout.Result.Trim().Split('\n')[^1]);
    return result.RootElement.GetProperty("textsPerSec").GetDouble();
}

static double Median(List<double> values) => P(values, 0.5);

static double P(List<double> values, double q)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
}

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Capa.slnx")))
        {
            return dir.FullName;
        }
    }

    throw new DirectoryNotFoundException("Run from inside the repository.");
}

int IntArg(string name, int fallback) => Arg(name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

string? Arg(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
