using System.Reflection;
using Capa.Models.Diagnostics;
using Capa.Server.Configuration;
using Capa.Server.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Capa.Server.Telemetry;

/// <summary>
/// OpenTelemetry traces, registered only when an OTLP endpoint is configured (<see cref="TracingSettings"/>): the ASP.NET
/// Core request span (instrumentation; scrapes of <c>/metrics</c> and <c>/health</c> left out) and Capa's own spans
/// (<see cref="CapaActivities.SourceName"/>: a GenAI <c>chat {model}</c> span per local completion with the engine's queue,
/// prefill and decode phases under it), sent over OTLP in batches. Without an endpoint nothing is registered: no tracer
/// provider, no <see cref="System.Diagnostics.ActivityListener"/>, so Capa's spans are never even created.
/// </summary>
internal static class TracingServiceCollectionExtensions
{
    /// <summary>Registers the tracer provider and its OTLP exporter when <paramref name="tracing"/> is given.</summary>
    public static IServiceCollection AddCapaTracing(this IServiceCollection services, TracingSettings? tracing)
    {
        if (tracing is null)
        {
            return services;
        }

        var version = typeof(TracingServiceCollectionExtensions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(tracing.ServiceName, serviceVersion: version))
            .WithTracing(tracer => tracer
                .AddSource(CapaActivities.SourceName)
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsHousekeeping(context.Request.Path))
                .AddOtlpExporter(exporter =>
                {
                    // Set in code, the endpoint is taken as the full URL of the signal (TracesUrl adds /v1/traces for HTTP).
                    exporter.Endpoint = tracing.TracesUrl;
                    exporter.Protocol = tracing.Protocol == OtlpProtocol.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                }));
        return services;
    }

    private static bool IsHousekeeping(PathString path) =>
        path.Equals(MetricsEndpoints.Path, StringComparison.OrdinalIgnoreCase) || path.Equals("/health", StringComparison.OrdinalIgnoreCase);
}
