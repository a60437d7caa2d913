using System.Text.RegularExpressions;
using Capa.Cli.Commands;
using Capa.Cli.Repro;
using Capa.Cli.Tests.Fakes;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Capa.Cli.Tests.Commands;

/// <summary><c>capa repro</c> against the real server and its local engine, serving <c>capa-tiny</c> from a fresh store.</summary>
public sealed class ReproRealServerTests : IAsyncLifetime
{
    private readonly string _models = Directory.CreateTempSubdirectory("capa-cli-models-").FullName;
    private WebApplication _app = null!;
    private string _baseUrl = null!;
    private readonly TempStateDirectory _state = new();

    public async Task InitializeAsync()
    {
        var options = new CapaServerOptions
        {
            Urls = ["http://127.0.0.1:0"],
            ModelsDirectory = _models,
            StateDirectory = _state.Path,
            // The test must not pick up keys, upstreams or aliases from the machine it runs on.
            GetEnvironmentVariable = _ => null,
        };
        _app = CapaServer.Build(options, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Services.AddLocalChatProvider(new LocalProviderOptions { ModelsDirectory = _models, CacheDirectory = _models + ".cache" });
        });
        _app.Services.GetRequiredService<LocalChatProvider>().PrepareStore();
        await _app.StartAsync();
        _baseUrl = CapaServer.GetAddresses(_app).First().TrimEnd('/') + "/v1";
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _state.Dispose();
        foreach (var directory in new[] { _models, _models + ".cache" })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task SeededPairOfTheLocalModelHasNoDifferences()
    {
        var (exit, output) = await CommandHarness.RunAsync(
            ReproCommand.Create(), "--base-url", _baseUrl, "--model", CapaTiny.ModelId, "--max-tokens", "24", "--no-color");

        Assert.True(exit == 0, output);
        int seededStart = output.IndexOf("Run 1/2 with seed 123", StringComparison.Ordinal);
        Assert.True(seededStart > 0, output);
        Assert.Contains(ReportRows.NoDifferences, output[seededStart..], StringComparison.Ordinal);

        // One fingerprint, fp_ + hex, on all four runs; the seeded runs echo seed 123.
        var fingerprints = Regex.Matches(output, @"System Fingerprint\s+│ (\S+)").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(4, fingerprints.Count);
        Assert.Single(fingerprints.Distinct());
        Assert.Matches("^fp_[0-9a-f]+$", fingerprints[0]);
        Assert.Equal(2, Regex.Count(output, @"│ x-capa-seed\s+│ 123\s"));
        Assert.Contains("With seed 123: determinism rate 100% (2/2 runs equal to run 1), 1 distinct output(s), 1 distinct system fingerprint(s).", output, StringComparison.Ordinal);
        Assert.Contains("Seeded runs are reproducible: same seed, same fingerprint, same output.", output, StringComparison.Ordinal);
    }
}
