using System.Diagnostics;
using System.Text.Json;

namespace Capa.TestModels.Tests;

/// <summary>
/// s3rver (npm), an S3-compatible server (the REST protocol, XML listings, errors; it does not verify Signature Version 4,
/// which SigV4SignerTests checks against AWS's published examples), run on 127.0.0.1 for the tests of Capa's S3 file
/// storage: one bucket, the key pair <see cref="AccessKey"/>/<see cref="SecretKey"/>. Stopped on dispose.
/// </summary>
internal sealed class S3rver : IDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private readonly Process _process;

    private S3rver(Process process, int port, string bucket)
    {
        _process = process;
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        Bucket = bucket;
    }

    /// <summary>Why the server cannot run here (no node, s3rver not installed), or null.</summary>
    public static string? UnavailableReason { get; } = Oracle.Node is null ? "node is not on PATH"
        : !Oracle.HasPackage("s3rver") ? "tests/oracle/node_modules/s3rver is not installed (run npm ci in tests/oracle)" : null;

    public Uri Endpoint { get; }

    public string Bucket { get; }

    /// <summary>Starts a server with an empty bucket and waits until it listens.</summary>
    public static S3rver Start(string bucket = "capa")
    {
        Process process = Oracle.Start("s3rver.mjs", bucket);
        try
        {
            Task<string?> line = process.StandardOutput.ReadLineAsync();
            if (!line.Wait(Oracle.DefaultTimeout) || line.Result is not { } json)
            {
                throw new InvalidOperationException("s3rver did not start: " + (process.HasExited ? process.StandardError.ReadToEnd() : "no answer"));
            }

            using var document = JsonDocument.Parse(json);
            return new S3rver(process, document.RootElement.GetProperty("port").GetInt32(), bucket);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
