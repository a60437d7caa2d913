using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace Capa.Server.Metrics;

/// <summary>
/// Prometheus text at <c>GET /metrics</c>, through prometheus-net: HTTP requests by route, method and status
/// (<c>http_requests_received_total</c>, <c>http_request_duration_seconds</c>, and ASP.NET Core's own
/// <c>http.server.request.duration</c> meter), the text engine's <c>Capa.Generation</c> meter (queued and running
/// requests, running sequences, reserved key/value cache bytes, prefill and decode token counters whose rates are tokens
/// per second, time to first token, inter-token latency, sequences per generation round), and the process's own.
/// Behind the API key like every route when keys are configured.
/// </summary>
internal static class MetricsEndpoints
{
    /// <summary>The scrape path.</summary>
    public const string Path = "/metrics";

    /// <summary>Counts requests per matched route (after routing, so the route pattern is known).</summary>
    public static void UseCapaMetrics(this IApplicationBuilder app) => app.UseHttpMetrics();

    /// <summary>Maps <c>GET /metrics</c>.</summary>
    public static void MapCapaMetrics(this IEndpointRouteBuilder endpoints) => endpoints.MapMetrics(Path);
}
