using System.Text;
using Capa.Server.Configuration;
using Capa.Server.Hosting;

namespace Capa.Server.Tests.Configuration;

/// <summary>The <c>telemetry</c> object, the <c>--otlp-endpoint</c> option and the standard <c>OTEL_</c> variables.</summary>
public sealed class TelemetryConfigTests
{
    private static CapaConfigFile Parse(string json) => CapaConfigFile.Parse(Encoding.UTF8.GetBytes(json), "test.json");

    private static ServerSettings Resolve(string? json, string? option = null, Func<string, string?>? env = null)
    {
        var path = Path.Combine(Path.GetTempPath(), "capa-telemetry-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            if (json is not null)
            {
                File.WriteAllText(path, json);
            }

            return ServerSettings.Resolve(new CapaServerOptions
            {
                ConfigFile = json is null ? null : path,
                OtlpEndpoint = option,
                GetEnvironmentVariable = env ?? (_ => null),
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TheTelemetryObject_Parses()
    {
        var telemetry = Parse("""{ "telemetry": { "otlp_endpoint": "http://127.0.0.1:4317", "otlp_protocol": "grpc", "service_name": "capa-eu" } }""").Telemetry!;

        Assert.Equal("http://127.0.0.1:4317", telemetry.OtlpEndpoint);
        Assert.Equal("grpc", telemetry.OtlpProtocol);
        Assert.Equal("capa-eu", telemetry.ServiceName);
    }

    [Theory]
    [InlineData("""{"telemetry": {"endpoint": "http://x"}}""", "endpoint")]
    [InlineData("""{"telemetry": {"otlp_endpoint": "ftp://x"}}""", "telemetry.otlp_endpoint")]
    [InlineData("""{"telemetry": {"otlp_endpoint": "http://x:4318/?a=1"}}""", "telemetry.otlp_endpoint")]
    [InlineData("""{"telemetry": {"otlp_endpoint": "collector:4318"}}""", "telemetry.otlp_endpoint")]
    [InlineData("""{"telemetry": {"otlp_protocol": "http/json"}}""", "telemetry.otlp_protocol")]
    [InlineData("""{"telemetry": {"service_name": " "}}""", "telemetry.service_name")]
    [InlineData("""{"telemetry": {"otlp_endpoint": 4318}}""", "otlp_endpoint")]
    public void InvalidTelemetry_SaysWhatToFix(string json, string expected)
    {
        var error = Assert.Throws<CapaConfigException>(() => Parse(json));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoEndpointAnywhere_NoTracing()
    {
        Assert.Null(Resolve(null).Tracing);
        Assert.Null(Resolve("""{ "telemetry": { "service_name": "capa-eu", "otlp_protocol": "grpc" } }""").Tracing);
    }

    [Fact]
    public void HttpProtobuf_IsTheDefault_AndSendsToV1Traces()
    {
        var tracing = Resolve("""{ "telemetry": { "otlp_endpoint": "http://127.0.0.1:4318" } }""").Tracing!;

        Assert.Equal(OtlpProtocol.HttpProtobuf, tracing.Protocol);
        Assert.Equal("http://127.0.0.1:4318/v1/traces", tracing.TracesUrl.AbsoluteUri);
        Assert.Equal(TracingSettings.DefaultServiceName, tracing.ServiceName);

        // A base with a path keeps it, as OTEL_EXPORTER_OTLP_ENDPOINT does.
        Assert.Equal("https://otel.example.com/ingest/v1/traces", Resolve(null, "https://otel.example.com/ingest/").Tracing!.TracesUrl.AbsoluteUri);
    }

    [Fact]
    public void Grpc_SendsToTheUrlItself()
    {
        var tracing = Resolve("""{ "telemetry": { "otlp_endpoint": "http://127.0.0.1:4317", "otlp_protocol": "grpc" } }""").Tracing!;

        Assert.Equal(OtlpProtocol.Grpc, tracing.Protocol);
        Assert.Equal("http://127.0.0.1:4317/", tracing.TracesUrl.AbsoluteUri);
    }

    [Fact]
    public void TheOptionWinsOverTheFile_WhichWinsOverTheEnvironment()
    {
        const string file = """{ "telemetry": { "otlp_endpoint": "http://file:4318", "service_name": "from-file" } }""";
        string? Env(string name) => name switch
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => "http://env:4317",
            "OTEL_EXPORTER_OTLP_PROTOCOL" => "grpc",
            "OTEL_SERVICE_NAME" => "from-env",
            _ => null,
        };

        var fromEnv = Resolve(null, env: Env).Tracing!;
        Assert.Equal(("env", OtlpProtocol.Grpc, "from-env"), (fromEnv.Endpoint.Host, fromEnv.Protocol, fromEnv.ServiceName));

        var fromFile = Resolve(file, env: Env).Tracing!;
        Assert.Equal(("file", "from-file"), (fromFile.Endpoint.Host, fromFile.ServiceName));

        var fromOption = Resolve(file, "http://option:4318", Env).Tracing!;
        Assert.Equal("option", fromOption.Endpoint.Host);
    }

    [Fact]
    public void OtelSdkDisabled_TurnsTracingOff()
    {
        Assert.Null(Resolve(null, "http://127.0.0.1:4318", name => name == "OTEL_SDK_DISABLED" ? "true" : null).Tracing);
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]
    public void BadEnvironment_SaysWhichVariable(string variable, string value)
    {
        var error = Assert.Throws<CapaConfigException>(() => Resolve(null, env: name => name switch
        {
            _ when name == variable => value,
            "OTEL_EXPORTER_OTLP_ENDPOINT" => "http://127.0.0.1:4318",
            _ => null,
        }));
        Assert.Contains(variable, error.Message, StringComparison.Ordinal);
    }
}
