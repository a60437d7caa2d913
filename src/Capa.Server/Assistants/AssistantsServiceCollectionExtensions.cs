using Capa.Server.Hosting;
using Capa.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Capa.Server.Assistants;

/// <summary>Registration of the Assistants API (v2): assistants, threads, messages, runs and run steps.</summary>
internal static class AssistantsServiceCollectionExtensions
{
    /// <summary>Registers the endpoints, mapped as an API area, and the run executor (the store is the Responses API's).</summary>
    public static IServiceCollection AddAssistants(this IServiceCollection services)
    {
        services.AddApiArea("assistants", static app => app.MapAssistants());
        services.TryAddSingleton<RunPlanner>();
        services.TryAddSingleton<MessageAttachments>();
        services.TryAddSingleton<RunExecutor>();
        services.AddHostedService(sp => sp.GetRequiredService<RunExecutor>());
        services.TryAddSingleton<AssistantsEndpoint>();
        services.TryAddSingleton<RunsEndpoint>();
        return services;
    }

    /// <summary>Maps <c>/v1/assistants</c> and <c>/v1/threads</c>; the <c>OpenAI-Beta: assistants=v2</c> header is accepted, not required.</summary>
    public static IEndpointRouteBuilder MapAssistants(this IEndpointRouteBuilder app)
    {
        static AssistantsEndpoint A(HttpContext c) => c.RequestServices.GetRequiredService<AssistantsEndpoint>();
        static RunsEndpoint R(HttpContext c) => c.RequestServices.GetRequiredService<RunsEndpoint>();
        static string V(HttpContext c, string name) => (string)c.Request.RouteValues[name]!;

        app.MapPost("/v1/assistants", static c => A(c).CreateAssistantAsync(c));
        app.MapGet("/v1/assistants", static c => A(c).ListAsync(c, AssistantObjectKinds.Assistant));
        app.MapGet("/v1/assistants/{id}", static c => A(c).GetAsync(c, AssistantObjectKinds.Assistant, V(c, "id")));
        app.MapPost("/v1/assistants/{id}", static c => A(c).ModifyAssistantAsync(c, V(c, "id")));
        app.MapDelete("/v1/assistants/{id}", static c => A(c).DeleteAsync(c, AssistantObjectKinds.Assistant, V(c, "id"), "assistant.deleted"));

        app.MapPost("/v1/threads", static c => A(c).CreateThreadAsync(c));
        app.MapPost("/v1/threads/runs", static c => R(c).CreateThreadAndRunAsync(c));
        app.MapGet("/v1/threads/{thread}", static c => A(c).GetAsync(c, AssistantObjectKinds.Thread, V(c, "thread")));
        app.MapPost("/v1/threads/{thread}", static c => A(c).ModifyThreadAsync(c, V(c, "thread")));
        app.MapDelete("/v1/threads/{thread}", static c => A(c).DeleteAsync(c, AssistantObjectKinds.Thread, V(c, "thread"), "thread.deleted"));

        app.MapPost("/v1/threads/{thread}/messages", static c => A(c).CreateMessageAsync(c, V(c, "thread")));
        app.MapGet("/v1/threads/{thread}/messages", static c => A(c).ListAsync(c, AssistantObjectKinds.Message, AssistantObjectKinds.Thread, V(c, "thread")));
        app.MapGet("/v1/threads/{thread}/messages/{id}", static c => A(c).GetAsync(c, AssistantObjectKinds.Message, V(c, "id"), V(c, "thread")));
        app.MapPost("/v1/threads/{thread}/messages/{id}", static c => A(c).ModifyMetadataAsync(c, AssistantObjectKinds.Message, V(c, "id"), V(c, "thread")));
        app.MapDelete("/v1/threads/{thread}/messages/{id}", static c => A(c).DeleteAsync(c, AssistantObjectKinds.Message, V(c, "id"), "thread.message.deleted", V(c, "thread")));

        app.MapPost("/v1/threads/{thread}/runs", static c => R(c).CreateAsync(c, V(c, "thread")));
        app.MapGet("/v1/threads/{thread}/runs", static c => A(c).ListAsync(c, AssistantObjectKinds.Run, AssistantObjectKinds.Thread, V(c, "thread")));
        app.MapGet("/v1/threads/{thread}/runs/{id}", static c => R(c).GetAsync(c, V(c, "thread"), V(c, "id")));
        app.MapPost("/v1/threads/{thread}/runs/{id}", static c => A(c).ModifyMetadataAsync(c, AssistantObjectKinds.Run, V(c, "id"), V(c, "thread")));
        app.MapPost("/v1/threads/{thread}/runs/{id}/cancel", static c => R(c).CancelAsync(c, V(c, "thread"), V(c, "id")));
        app.MapPost("/v1/threads/{thread}/runs/{id}/submit_tool_outputs", static c => R(c).SubmitToolOutputsAsync(c, V(c, "thread"), V(c, "id")));
        app.MapGet("/v1/threads/{thread}/runs/{id}/steps", static c => R(c).ListStepsAsync(c, V(c, "thread"), V(c, "id")));
        app.MapGet("/v1/threads/{thread}/runs/{id}/steps/{step}", static c => R(c).GetStepAsync(c, V(c, "thread"), V(c, "id"), V(c, "step")));
        return app;
    }
}
