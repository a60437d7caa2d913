using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Capa.Storage.Tests.Sql;

/// <summary>
/// A throwaway PostgreSQL cluster: Debian's <c>initdb</c> and <c>pg_ctl</c> under a temporary folder, listening on
/// 127.0.0.1 only, stopped and deleted on dispose. As root (CI) the server runs as the <c>postgres</c> user (or
/// <c>nobody</c>), since PostgreSQL refuses to run as root.
/// </summary>
public sealed class PostgresCluster : IAsyncLifetime
{
    private string? _directory;
    private string? _binaries;
    private string? _runAs;

    /// <summary>Why the cluster cannot run here, or null when it runs.</summary>
    public string? Unavailable { get; private set; }

    /// <summary>A connection string to the cluster's <c>postgres</c> database.</summary>
    public string AdminConnectionString { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        _binaries = FindBinaries();
        if (_binaries is null)
        {
            Unavailable = "PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) are not installed; install Debian's postgresql package.";
            return;
        }

        if (Environment.UserName == "root")
        {
            _runAs = UserExists("postgres") ? "postgres" : "nobody";
            if (!File.Exists("/usr/sbin/runuser") && !File.Exists("/sbin/runuser"))
            {
                Unavailable = "Running as root without runuser: PostgreSQL refuses to start as root.";
                return;
            }
        }

        _directory = Directory.CreateTempSubdirectory("capa-pg-").FullName;
        var data = Path.Combine(_directory, "data");
        if (_runAs is not null)
        {
            await RunAsync("/bin/chown", ["-R", _runAs, _directory], asUser: false);
        }

        await RunAsync(Path.Combine(_binaries, "initdb"), ["-D", data, "-A", "trust", "-U", "capa", "-E", "UTF8", "--no-sync", "--locale=C"]);
        var port = FreePort();
        var options = $"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={_directory} -c fsync=off -c max_connections=100";
        await RunAsync(Path.Combine(_binaries, "pg_ctl"), ["-D", data, "-o", options, "-l", Path.Combine(_directory, "log"), "-w", "-t", "60", "start"]);
        AdminConnectionString = $"Host=127.0.0.1;Port={port};Username=capa;Database=postgres;Pooling=false;Timeout=30";
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        var name = "t" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ToString();
    }

    public async Task DisposeAsync()
    {
        if (_directory is null || _binaries is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsync(Path.Combine(_binaries, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static string? FindBinaries()
    {
        if (!Directory.Exists("/usr/lib/postgresql"))
        {
            return null;
        }

        return Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
            .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
            .FirstOrDefault();
    }

    private static bool UserExists(string user) => File.ReadLines("/etc/passwd").Any(l => l.StartsWith(user + ":", StringComparison.Ordinal));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asUser = true)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory ?? Path.GetTempPath(),
        };
        if (asUser && _runAs is not null)
        {
            start.FileName = "runuser";
            foreach (var argument in (string[])["-u", _runAs, "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start.FileName = program;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish in 2 minutes.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} failed ({process.ExitCode}): {await stdout}{await stderr}");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>
{
    public const string Name = "PostgreSQL cluster";
}
