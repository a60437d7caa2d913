using System.CommandLine;
using Capa.Engine.Text.Generation;
using Capa.Models.Store;
using Capa.Media.Decoding;
using Capa.Server.Audio;
using Capa.Server.Configuration;
using Capa.Server.Hosting;
using Capa.Server.Images;
using Capa.Server.Providers.Local;
using Capa.Server.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Capa.Cli.Commands;

/// <summary><c>capa serve</c>: runs the OpenAI-compatible server until Ctrl+C.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string?>("--urls")
        {
            Description = $"Addresses to listen on, separated by ';' (default {CapaServerOptions.DefaultUrl}).",
        };
        var modelsDir = new Option<string?>("--models-dir")
        {
            Description = "The model store (default: $CAPA_MODELS, else ~/.capa/models).",
        };
        var config = new Option<string?>("--config") { Description = "A JSON config file: upstreams, aliases, api_keys, limits." };
        var apiKeys = new Option<string[]>("--api-key")
        {
            Description = "An API key clients must send (repeatable; also $CAPA_API_KEYS, comma-separated).",
            Arity = ArgumentArity.ZeroOrMore,
        };

        var stateDir = new Option<string?>("--state-dir")
        {
            Description = "Where stored responses and conversations live, one SQLite file (default: $CAPA_STATE, else ~/.capa/state).",
        };
        var statePostgres = new Option<string?>("--state-postgres")
        {
            Description = "Keep responses and conversations in PostgreSQL instead (an Npgsql connection string; also $CAPA_STATE_POSTGRES).",
        };
        var retention = new Option<int?>("--response-retention-days") { Description = "Delete stored responses this many days after they were created." };

        // The server's declared settings that have a flag (--q4-accuracy, --kv-cache-bytes, ...): name, help and parsing
        // come from their one declaration on CapaServerOptions.
        var settingFlags = SettingCatalog.Server.Settings.Where(s => s.Flag is not null)
            .Select(s => (Setting: s, Option: new Option<string?>(s.Flag!) { Description = s.FlagHelp }))
            .ToArray();

        var otlpEndpoint = new Option<string?>("--otlp-endpoint")
        {
            Description = "Send OpenTelemetry traces (HTTP requests, chat completions with their queue, prefill and decode phases) to this "
                + "OTLP collector, a base URL such as http://127.0.0.1:4318 (traces go to its /v1/traces; the config file's "
                + "telemetry.otlp_protocol \"grpc\" sends gRPC to the URL itself). Overrides the config file's telemetry.otlp_endpoint "
                + "and $OTEL_EXPORTER_OTLP_ENDPOINT. Without any of them nothing is traced.",
        };

        var command = new Command("serve", "Run the OpenAI-compatible server.") { urls, modelsDir, config, apiKeys };
        foreach (var (_, option) in settingFlags)
        {
            command.Options.Add(option);
        }

        command.Options.Add(otlpEndpoint);
        command.Options.Add(stateDir);
        command.Options.Add(statePostgres);
        command.Options.Add(retention);
        command.SetAction((parse, ct) => CliRunner.RunAsync(
            async () =>
            {
                var options = new CapaServerOptions
                {
                    Urls = ParseUrls(parse.GetValue(urls)),
                    ModelsDirectory = ResolveModelsDirectory(parse.GetValue(modelsDir)),
                    ConfigFile = parse.GetValue(config) is { Length: > 0 } file ? Path.GetFullPath(file) : null,
                    ApiKeys = [.. parse.GetValue(apiKeys) ?? [], .. SplitKeys(Environment.GetEnvironmentVariable("CAPA_API_KEYS"))],
                    OtlpEndpoint = ParseOtlpEndpoint(parse.GetValue(otlpEndpoint)),
                    StateDirectory = parse.GetValue(stateDir) is { Length: > 0 } state ? Path.GetFullPath(state) : null,
                    StatePostgresConnectionString = parse.GetValue(statePostgres),
                    ResponseRetention = parse.GetValue(retention) is { } days
                        ? (days >= 1 ? TimeSpan.FromDays(days) : throw new CliException($"--response-retention-days must be at least 1; got {days}."))
                        : null,
                };
                foreach (var (setting, option) in settingFlags)
                {
                    if (ParseFlag(setting.Flag!, parse.GetValue(option)) is { } value)
                    {
                        options = SettingCatalog.With(options, setting, value);
                    }
                }

                await RunAsync(options, ct).ConfigureAwait(false);
            },
            parse.InvocationConfiguration.Error,
            TerminalText.IsTerminal));
        return command;
    }

    /// <summary>
    /// The value of a declared setting's flag (<c>--kv-cache-bytes 4G</c>), of its property's type; null when not given
    /// (then the config file's value or the default applies).
    /// </summary>
    internal static object? ParseFlag(string flag, string? value)
    {
        var setting = SettingCatalog.Server.ByFlag(flag) ?? throw new ArgumentException($"{flag} is not a setting's flag.", nameof(flag));
        try
        {
            return value is null ? null : setting.ParseText(flag, value);
        }
        catch (CapaConfigException e)
        {
            throw new CliException(e.Message);
        }
    }

    /// <summary>The value of <c>--otlp-endpoint</c>: an absolute http(s) URL without a query; null when not given.</summary>
    internal static string? ParseOtlpEndpoint(string? value) =>
        value is null ? null
        : Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && uri.Query.Length == 0 && uri.Fragment.Length == 0
            ? uri.AbsoluteUri
            : throw new CliException($"--otlp-endpoint must be an http(s) URL such as http://127.0.0.1:4318; got '{value}'.");

    private static async Task RunAsync(CapaServerOptions options, CancellationToken ct)
    {
        WebApplication app;
        var localOptions = new LocalProviderOptions { ModelsDirectory = options.ModelsDirectory };
        try
        {
            app = CapaServer.Build(options, builder =>
            {
                // Start-up failures are reported as one line below; the host's own stack trace would only repeat it.
                builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
                builder.Services.AddLocalChatProvider(localOptions);
                builder.Services.AddLocalVisionProvider(new LocalVisionProviderOptions { ModelsDirectory = options.ModelsDirectory });
                builder.Services.AddTranscription(new LocalTranscriptionOptions { ModelsDirectory = options.ModelsDirectory });
                builder.Services.AddImages(new ImageOptions { ModelsDirectory = options.ModelsDirectory });
            });
        }
        catch (CapaConfigException e)
        {
            throw new CliException(e.Message);
        }

        await using (app.ConfigureAwait(false))
        {
            string? banner;
            try
            {
                banner = app.Services.GetRequiredService<LocalChatProvider>().PrepareStore();
                if (app.Services.GetRequiredService<LocalVisionProvider>().PrepareStore() is { } visionBanner)
                {
                    banner = banner is null ? visionBanner : banner + Environment.NewLine + visionBanner;
                }

                if (app.Services.GetRequiredService<LocalTranscriptionProvider>().Prepare() is { } speechBanner)
                {
                    banner = banner is null ? speechBanner : banner + Environment.NewLine + speechBanner;
                }

                if (app.Services.GetRequiredService<LocalImageProvider>().Prepare() is { } imageBanner)
                {
                    banner = banner is null ? imageBanner : banner + Environment.NewLine + imageBanner;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot prepare the models of {options.ModelsDirectory} (or Capa's cache, {ModelStore.DefaultCacheRoot()}): {e.Message}");
            }

            try
            {
                await app.StartAsync(ct).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                // Kestrel reports a taken port or an unusable address this way.
                throw new CliException($"cannot listen on {string.Join(", ", options.Urls)}: {e.Message}");
            }

            var addresses = CapaServer.GetAddresses(app);
            Console.WriteLine($"Capa is listening on {string.Join(", ", addresses)}");
            Console.WriteLine($"Models: {options.ModelsDirectory}");
            if (CapaServer.TracesDestination(app) is { } traces)
            {
                Console.WriteLine($"Traces: {traces}");
            }

            if (banner is not null)
            {
                Console.WriteLine(banner);
            }

            if (!AudioUploadDecoder.IsFfmpegAvailable())
            {
                Console.Error.WriteLine(
                    "warning: ffmpeg is not installed: /v1/audio/transcriptions accepts WAV only until it is (Debian/Ubuntu: apt-get install ffmpeg).");
            }

            if (!CapaServer.RequiresApiKey(app) && !options.Urls.All(CapaServer.IsLoopbackOnly))
            {
                Console.Error.WriteLine(
                    "warning: the server listens beyond this machine and no API key is configured: anyone who can reach it can use it. "
                    + "Set --api-key or CAPA_API_KEYS.");
            }

            try
            {
                await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl+C: a normal way to stop.
            }

            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static IReadOnlyList<string> ParseUrls(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return [CapaServerOptions.DefaultUrl];
        }

        var urls = value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var url in urls)
        {
            var probe = url.Replace("://*", "://host", StringComparison.Ordinal).Replace("://+", "://host", StringComparison.Ordinal);
            if (!Uri.TryCreate(probe, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new CliException($"--urls: '{url}' is not an http(s) URL such as {CapaServerOptions.DefaultUrl}.");
            }
        }

        return urls;
    }

    private static string ResolveModelsDirectory(string? option)
    {
        var dir = option;
        if (string.IsNullOrWhiteSpace(dir))
        {
            dir = Environment.GetEnvironmentVariable("CAPA_MODELS");
        }

        if (string.IsNullOrWhiteSpace(dir))
        {
            dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".capa", "models");
        }

        return Path.GetFullPath(dir);
    }

    private static IEnumerable<string> SplitKeys(string? value) =>
        string.IsNullOrWhiteSpace(value) ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
