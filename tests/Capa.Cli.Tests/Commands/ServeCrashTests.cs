using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Capa.Cli.Tests.Commands;

/// <summary>
/// <c>capa serve</c> as a real process, killed with SIGKILL while a background response runs: after a restart on the
/// same state every acknowledged response is there byte for byte, and the interrupted one is failed, not in progress.
/// </summary>
public sealed class ServeCrashTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("capa-crash-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task A_kill_during_a_background_response_loses_nothing_acknowledged_and_leaves_nothing_in_progress()
    {
        var acknowledged = new Dictionary<string, string>();
        string background;
        using (var first = await ServeProcess.StartAsync(_root))
        {
            for (var i = 0; i < 5; i++)
            {
                var body = await first.PostAsync($$"""{"model":"capa-tiny","input":"turn {{i}}","max_output_tokens":16}""");
                acknowledged[JsonElement.Parse(body).GetProperty("id").GetString()!] = body;
            }

            var queued = JsonElement.Parse(await first.PostAsync("""{"model":"capa-tiny","input":"write a lot","max_output_tokens":2000,"background":true}"""));
            background = queued.GetProperty("id").GetString()!;
            await first.WaitForStatusAsync(background, "in_progress");
            first.Kill();
        }

        using var second = await ServeProcess.StartAsync(_root);
        foreach (var (id, body) in acknowledged)
        {
            Assert.Equal(body, await second.GetAsync($"/v1/responses/{id}"));
        }

        var interrupted = JsonElement.Parse(await second.GetAsync($"/v1/responses/{background}"));
        Assert.Equal("failed", interrupted.GetProperty("status").GetString());
        Assert.Equal("server_error", interrupted.GetProperty("error").GetProperty("code").GetString());
    }

    /// <summary><c>capa serve</c> as a child process on a free port, with its state and models under a root folder.</summary>
    internal sealed class ServeProcess : IDisposable
    {
        private readonly Process _process;
        private readonly HttpClient _http;

        private ServeProcess(Process process, HttpClient http)
        {
            _process = process;
            _http = http;
        }

        public static async Task<ServeProcess> StartAsync(string root)
        {
            var port = FreePort();
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in (string[])[Path.Combine(AppContext.BaseDirectory, "capa.dll"), "serve", "--urls", $"http://127.0.0.1:{port}", "--models-dir", Path.Combine(root, "models"), "--state-dir", Path.Combine(root, "state")])
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment["CAPA_API_KEYS"] = string.Empty;
            var process = Process.Start(start) ?? throw new InvalidOperationException("capa serve did not start.");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(120) };
            var server = new ServeProcess(process, http);
            for (var i = 0; i < 600; i++)
            {
                if (process.HasExited)
                {
                    break;
                }

                try
                {
                    using var health = await http.GetAsync("/health");
                    if (health.IsSuccessStatusCode)
                    {
                        return server;
                    }
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(100);
            }

            server.Dispose();
            throw new InvalidOperationException("capa serve did not become healthy in 60 s.");
        }

        public Task<string> PostAsync(string json) => PostAsync("/v1/responses", json);

        public async Task<string> PostAsync(string path, string json)
        {
            using var response = await _http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            return body;
        }

        public async Task<string> GetAsync(string path)
        {
            using var response = await _http.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            return body;
        }

        public async Task WaitForStatusAsync(string id, string status)
        {
            for (var i = 0; i < 600; i++)
            {
                if (JsonElement.Parse(await GetAsync($"/v1/responses/{id}")).GetProperty("status").GetString() == status)
                {
                    return;
                }

                await Task.Delay(50);
            }

            throw new TimeoutException($"{id} never reached {status}.");
        }

        /// <summary>SIGKILL: no shutdown hooks run, nothing is flushed.</summary>
        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(30_000);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(30_000);
            }

            _http.Dispose();
            _process.Dispose();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
