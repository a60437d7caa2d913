using System.Diagnostics;
using System.Globalization;
using System.Text;
using Capa.Storage;

// The storage layer's cost per Responses request: what POST /v1/responses does with the store for turn N of a chain
// (read the chain, then write the response with its input item), and what a GET does. Usage:
//   dotnet run -c Release --project bench/Capa.Storage.Bench -- [--postgres CONNECTION_STRING] [--turns 10] [--requests 400]
// SQLite runs in a temporary folder; PostgreSQL runs only when a connection string is given. Results: p50/p99 in ms.
var postgres = Arg("--postgres");
var turns = int.Parse(Arg("--turns") ?? "10", CultureInfo.InvariantCulture);
var requests = int.Parse(Arg("--requests") ?? "400", CultureInfo.InvariantCulture);

var directory = Directory.CreateTempSubdirectory("capa-storage-bench-").FullName;
var rows = new List<string>();
try
{
    var stores = new List<(string Name, IResponseStore Store)> { ("SQLite (WAL, synchronous=FULL)", ResponseStores.CreateSqlite(Path.Combine(directory, "state.db"))) };
    if (postgres is not null)
    {
        stores.Add(("PostgreSQL 127.0.0.1", ResponseStores.CreatePostgres(postgres)));
    }

    foreach (var (name, store) in stores)
    {
        await using (store)
        {
            await store.InitializeAsync(CancellationToken.None);
            var (create, get) = await MeasureAsync(store, turns, requests);
            rows.Add($"| {name} | {turns} | {requests} | {P(create, 0.5)} | {P(create, 0.99)} | {P(get, 0.5)} | {P(get, 0.99)} |");
        }
    }
}
finally
{
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    Directory.Delete(directory, recursive: true);
}

Console.WriteLine("| store | chain depth | requests | POST store work p50 ms | p99 ms | GET p50 ms | p99 ms |");
Console.WriteLine("|---|---|---|---|---|---|---|");
foreach (var row in rows)
{
    Console.WriteLine(row);
}

string? Arg(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

static string P(List<double> samples, double q)
{
    samples.Sort();
    return samples[Math.Min(samples.Count - 1, (int)(q * samples.Count))].ToString("F3", CultureInfo.InvariantCulture);
}

// Each request continues a chain of `turns` responses of ~200 tokens (~800 bytes of text) each.
static async Task<(List<double> Create, List<double> Get)> MeasureAsync(IResponseStore store, int turns, int requests)
{
    var text = new string('x', 800);
    string? previous = null;
    for (var i = 0; i < turns; i++)
    {
        previous = await WriteAsync(store, previous, text);
    }

    var create = new List<double>(requests);
    var get = new List<double>(requests);
    for (var i = 0; i < requests + 20; i++)
    {
        var watch = Stopwatch.StartNew();
        var chain = await store.GetChainAsync(previous!, 10_000, CancellationToken.None);
        if (chain.Links.Count < turns)
        {
            throw new InvalidOperationException("The chain is short.");
        }

        var id = await WriteAsync(store, previous, text);
        var createMs = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        _ = await store.GetResponseAsync(id, CancellationToken.None);
        var getMs = watch.Elapsed.TotalMilliseconds;
        if (i >= 20)
        {
            create.Add(createMs);
            get.Add(getMs);
        }
    }

    return (create, get);
}

static async Task<string> WriteAsync(IResponseStore store, string? previous, string text)
{
    var id = StoreIds.NewResponseId();
    var json = new StringBuilder().Append("{\"id\":\"").Append(id).Append("\",\"object\":\"response\",\"status\":\"completed\",\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"").Append(text).Append("\"}]}]}").ToString();
    await store.CreateResponseAsync(
        new StoredResponse { Id = id, CreatedAt = 1, Status = ResponseStatuses.Completed, PreviousResponseId = previous, Json = json },
        [new StoredItem(StoreIds.NewMessageId(), "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"" + text + "\"}]}")],
        null,
        CancellationToken.None);
    return id;
}
