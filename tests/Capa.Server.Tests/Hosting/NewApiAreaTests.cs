using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Capa.Protocol;
using Capa.Server.Errors;
using Capa.Server.Hosting;
using Capa.Server.Routing;
using Capa.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Tests.Hosting;

/// <summary>
/// A new modality is a provider interface, an endpoint and one registration line: this test adds an "echo" area from
/// outside the server's code, and routing, <c>/v1/models</c>, upstream fall-through and errors work for it unchanged.
/// </summary>
public sealed class NewApiAreaTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private CapaTestServer _server = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _server = await CapaTestServer.StartAsync(
            new CapaServerOptions
            {
                Upstreams = [new UpstreamOptions { Name = "fake", BaseUrl = new Uri(_upstream.BaseUrl + "/v1"), Models = ["fake-model"] }],
            },
            builder => builder.Services.AddEcho());
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task TheAreasLocalModel_IsServedByItsProvider()
    {
        using var response = await _server.Http.PostAsJsonAsync("/v1/echo", new { model = "echo-1", input = "一只猫" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("echo", body.GetProperty("provider").GetString());
        Assert.Equal("一只猫", body.GetProperty("output").GetString());
    }

    [Fact]
    public async Task AModelOnlyAnUpstreamServes_RoutesToTheUpstream()
    {
        using var response = await _server.Http.PostAsJsonAsync("/v1/echo", new { model = "fake-model", input = "x" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("fake", body.GetProperty("provider").GetString());
    }

    [Fact]
    public async Task AnUnknownModel_IsOpenAIs404()
    {
        using var response = await _server.Http.PostAsJsonAsync("/v1/echo", new { model = "no-such-model", input = "x" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task TheAreasModel_IsListed_ButNotServedByChat()
    {
        var models = JsonDocument.Parse(await _server.Http.GetStringAsync("/v1/models")).RootElement.GetProperty("data");
        Assert.Contains(models.EnumerateArray(), m => m.GetProperty("id").GetString() == "echo-1");

        using var chat = await _server.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "echo-1", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.NotFound, chat.StatusCode);
    }
}

/// <summary>The new area's provider interface, as each modality has one.</summary>
internal interface IEchoProvider : IModelProvider
{
    string Echo(string input);
}

internal sealed class EchoProvider : IEchoProvider
{
    private static readonly IReadOnlyList<ProviderModel> Models = [new ProviderModel("echo-1", ModelCapabilities.None)];

    public string Name => "echo";

    public ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Models);

    public string Echo(string input) => input;
}

/// <summary>The area's registration: its provider and its endpoint, one call in the host's configuration.</summary>
internal static class EchoArea
{
    public static IServiceCollection AddEcho(this IServiceCollection services)
    {
        services.AddSingleton<EchoProvider>();
        services.AddSingleton<IModelProvider>(sp => sp.GetRequiredService<EchoProvider>());
        return services.AddApiArea("echo", endpoints => endpoints.MapPost("/v1/echo", HandleAsync));
    }

    private static async Task HandleAsync(HttpContext context)
    {
        var request = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body, cancellationToken: context.RequestAborted);
        var model = request.GetProperty("model").GetString()!;
        var router = context.RequestServices.GetRequiredService<ModelRouter>();
        var route = await router.ResolveAsync<IEchoProvider>(model, ModelCapabilities.None, context.RequestAborted);
        if (route is null)
        {
            await ErrorWriter.WriteAsync(context, ApiError.ModelNotFound(model));
            return;
        }

        var output = route.Provider is IEchoProvider echo ? echo.Echo(request.GetProperty("input").GetString()!) : null;
        await context.Response.WriteAsJsonAsync(new { provider = route.Provider.Name, output });
    }
}
