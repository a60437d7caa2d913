using System.Text.Json.Serialization;

namespace Capa.Server.Configuration;

/// <summary>
/// The <c>telemetry</c> object of the config file: where OpenTelemetry traces go. Without an endpoint here, in
/// <c>capa serve --otlp-endpoint</c> or in <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, no tracer is registered at all.
/// </summary>
/// <example><c>{ "otlp_endpoint": "http://127.0.0.1:4318", "otlp_protocol": "http/protobuf", "service_name": "capa" }</c></example>
public sealed record TelemetryConfig
{
    /// <summary>
    /// The OTLP collector's base URL, as in <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>: with <c>http/protobuf</c> traces go to
    /// its <c>/v1/traces</c>; with <c>grpc</c> to the URL itself.
    /// </summary>
    [JsonPropertyName("otlp_endpoint")]
    public string? OtlpEndpoint { get; init; }

    /// <summary><c>grpc</c> or <c>http/protobuf</c> (default, as OpenTelemetry's specification has it).</summary>
    [JsonPropertyName("otlp_protocol")]
    public string? OtlpProtocol { get; init; }

    /// <summary>The <c>service.name</c> resource attribute (default <c>capa</c>, or <c>OTEL_SERVICE_NAME</c>).</summary>
    [JsonPropertyName("service_name")]
    public string? ServiceName { get; init; }

    internal void Validate(string source)
    {
        if (OtlpEndpoint is not null && !TracingSettings.TryParseEndpoint(OtlpEndpoint, out _))
        {
            throw new CapaConfigException($"'{source}': telemetry.otlp_endpoint must be an absolute http(s) URL without a query.");
        }

        if (OtlpProtocol is not null && TracingSettings.ParseProtocol(OtlpProtocol) is null)
        {
            throw new CapaConfigException($"'{source}': telemetry.otlp_protocol must be \"grpc\" or \"http/protobuf\"; got '{OtlpProtocol}'.");
        }

        if (ServiceName is not null && string.IsNullOrWhiteSpace(ServiceName))
        {
            throw new CapaConfigException($"'{source}': telemetry.service_name must not be empty.");
        }
    }
}

/// <summary>How OTLP carries traces.</summary>
internal enum OtlpProtocol
{
    /// <summary><c>http/protobuf</c>: protobuf bodies POSTed to <c>/v1/traces</c>.</summary>
    HttpProtobuf,

    /// <summary><c>grpc</c>: the collector's gRPC trace service.</summary>
    Grpc,
}

/// <summary>The effective trace export: resolved from the option, the config file and the environment.</summary>
/// <param name="Endpoint">The collector's base URL.</param>
/// <param name="Protocol">The OTLP transport.</param>
/// <param name="ServiceName">The <c>service.name</c> resource attribute.</param>
internal sealed record TracingSettings(Uri Endpoint, OtlpProtocol Protocol, string ServiceName)
{
    /// <summary>The service name when none is configured.</summary>
    public const string DefaultServiceName = "capa";

    /// <summary>Where spans are sent: the base URL itself for gRPC, its <c>v1/traces</c> for HTTP (OTLP's rule for a base endpoint).</summary>
    public Uri TracesUrl => Protocol == OtlpProtocol.Grpc
        ? Endpoint
        : new Uri(Endpoint.AbsoluteUri.EndsWith('/') ? Endpoint.AbsoluteUri + "v1/traces" : Endpoint.AbsoluteUri + "/v1/traces");

    /// <summary>
    /// The trace export, or null when no endpoint is given anywhere (or <c>OTEL_SDK_DISABLED</c> is <c>true</c>). The
    /// option (<c>--otlp-endpoint</c>) wins over the file's <c>telemetry.otlp_endpoint</c>, which wins over
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>; the file's protocol and service name over <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>
    /// and <c>OTEL_SERVICE_NAME</c>.
    /// </summary>
    /// <exception cref="CapaConfigException">An environment variable or the option holds an unusable value.</exception>
    public static TracingSettings? Resolve(string? option, TelemetryConfig? file, Func<string, string?> env)
    {
        if (string.Equals(env("OTEL_SDK_DISABLED")?.Trim(), "true", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var (text, from) = !string.IsNullOrWhiteSpace(option) ? (option, "--otlp-endpoint")
            : file?.OtlpEndpoint is { } configured ? (configured, "telemetry.otlp_endpoint")
            : (env("OTEL_EXPORTER_OTLP_ENDPOINT"), "OTEL_EXPORTER_OTLP_ENDPOINT");
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (!TryParseEndpoint(text, out var endpoint))
        {
            throw new CapaConfigException($"{from} must be an absolute http(s) URL without a query; got '{text}'.");
        }

        OtlpProtocol protocol;
        if (file?.OtlpProtocol is { } fileProtocol)
        {
            protocol = ParseProtocol(fileProtocol) ?? throw new CapaConfigException("telemetry.otlp_protocol must be \"grpc\" or \"http/protobuf\".");
        }
        else if (env("OTEL_EXPORTER_OTLP_PROTOCOL") is { Length: > 0 } envProtocol)
        {
            protocol = ParseProtocol(envProtocol)
                ?? throw new CapaConfigException($"OTEL_EXPORTER_OTLP_PROTOCOL must be \"grpc\" or \"http/protobuf\"; got '{envProtocol}'.");
        }
        else
        {
            protocol = OtlpProtocol.HttpProtobuf;
        }

        var service = file?.ServiceName ?? env("OTEL_SERVICE_NAME");
        return new TracingSettings(endpoint, protocol, string.IsNullOrWhiteSpace(service) ? DefaultServiceName : service.Trim());
    }

    /// <summary>An absolute http(s) URL without query or fragment.</summary>
    public static bool TryParseEndpoint(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? endpoint)
    {
        endpoint = null;
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            return false;
        }

        endpoint = uri;
        return true;
    }

    /// <summary><c>grpc</c> or <c>http/protobuf</c> (case-insensitive); null for anything else.</summary>
    public static OtlpProtocol? ParseProtocol(string text) => text.Trim().ToLowerInvariant() switch
    {
        "grpc" => OtlpProtocol.Grpc,
        "http/protobuf" => OtlpProtocol.HttpProtobuf,
        _ => null,
    };
}
