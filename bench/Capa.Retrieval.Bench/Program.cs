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

    using var encoder = SentenceEncoder.Load(model);
    var tokens = texts.Sum(t => encoder.Tokenize(t).Length);
    encoder.Encode(texts.Take(2).ToList());
    var capa = new List<double>();
    var node = new List<double>();
    if (args.Contains("--skip-throughput"))
    {
        rounds = 0;
    }

    for (var r = 0; r < rounds; r++)
    {
        var clock = Stopwatch.StartNew();
        encoder.Encode(texts);
        capa.Add(texts.Count / clock.Elapsed.TotalSeconds);
        node.Add(RunNode(root, model, textsPath));
        Console.Error.WriteLine($"round {r + 1}: Capa {capa[^1]:F1} texts/s, transformers.js {node[^1]:F1} texts/s");
    }

    if (rounds > 0)
    {
        Console.WriteLine($"Embedding throughput, {texts.Count} texts ({tokens / (double)texts.Count:F0} tokens each on average), batches of 16, {rounds} interleaved rounds:");
        Console.WriteLine();
        Console.WriteLine("| runtime | texts/s median | range | ratio (Capa / transformers.js), median of rounds |");
        Console.WriteLine("|---|---|---|---|");
        var ratios = capa.Zip(node, (a, b) => a / b).ToList();
        Console.WriteLine($"| Capa (SentenceEncoder) | {Median(capa):F1} | {capa.Min():F1}–{capa.Max():F1} | {Median(ratios):F2}× |");
        Console.WriteLine($"| transformers.js 4.3.1 feature-extraction | {Median(node):F1} | {node.Min():F1}–{node.Max():F1} | |");
        Console.WriteLine();
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
        for (var q = 0; q < queries.Count; q++)
        {
            // Interleaved, the path before the keyword index: every chunk read with its text and tokenized per query.
            var before = Stopwatch.StartNew();
            var all = await store.GetSearchableChunksAsync([StoreId], CancellationToken.None);
            var old = HybridSearch.Search(all, encoder.Encode([queries[q]]), [queries[q]], null, new RankingOptions(), 10);
            previous.Add(before.Elapsed.TotalMilliseconds);
            if (old.Count == 0)
            {
                throw new InvalidOperationException($"search {q} found nothing on the previous path");
            }

            // The steps VectorStoreService.SearchAsync takes.
            var clock = Stopwatch.StartNew();
            var queryVector = encoder.Encode([queries[q]]);
            var t1 = clock.Elapsed.TotalMilliseconds;
            var chunks = await store.GetChunkVectorsAsync([StoreId], CancellationToken.None);
            var t2 = clock.Elapsed.TotalMilliseconds;
            var keywords = await store.GetKeywordStatisticsAsync([StoreId], [.. KeywordTerms.Split(queries[q]).Distinct(StringComparer.Ordinal)], CancellationToken.None);
            var t3 = clock.Elapsed.TotalMilliseconds;
            var ranked = HybridSearch.Rank(chunks, null, keywords, queryVector, [queries[q]], new RankingOptions(), 10);
            var t4 = clock.Elapsed.TotalMilliseconds;
            var hits = await store.GetChunksAsync([.. ranked.Select(r => chunks[r.Index].Key)], CancellationToken.None);
            var t5 = clock.Elapsed.TotalMilliseconds;
            if (hits.Count == 0 || chunks.Count != chunkCount || keywords.ChunkCount != chunkCount)
            {
                throw new InvalidOperationException($"search {q} found {hits.Count} hits among {chunks.Count} chunks ({keywords.ChunkCount} indexed)");
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
        Console.WriteLine($"| search end to end, {queries.Count} queries: p50 / p99 | {P(total, 0.5):F1} / {P(total, 0.99):F1} ms |");
        Console.WriteLine($"| the previous path, interleaved (every chunk's text read and tokenized per query): p50 / p99 | {P(previous, 0.5):F1} / {P(previous, 0.99):F1} ms |");
        Console.WriteLine($"| of which query embedding p50 / p99 | {P(embed, 0.5):F1} / {P(embed, 0.99):F1} ms |");
        Console.WriteLine($"| of which reading the vectors p50 / p99 | {P(read, 0.5):F1} / {P(read, 0.99):F1} ms |");
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
