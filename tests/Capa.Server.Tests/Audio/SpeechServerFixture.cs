using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using Capa.Server.Audio;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Audio;

namespace Capa.Server.Tests.Audio;

/// <summary>A Capa server with the default speech settings (real espeak-ng and ffmpeg from PATH), no API key.</summary>
public sealed class SpeechServerFixture : IAsyncLifetime
{
    public CapaTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await SpeechServers.StartAsync(new SpeechOptions());

    public AudioClient Audio(string model) => SpeechServers.Client(Server).GetAudioClient(model);

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

internal static class SpeechServers
{
    public static Task<CapaTestServer> StartAsync(SpeechOptions options) =>
        CapaTestServer.StartAsync(new CapaServerOptions(), builder => builder.Services.AddSingleton(options));

    public static OpenAIClient Client(CapaTestServer server) => new(
        new ApiKeyCredential("unused"),
        new OpenAIClientOptions
        {
            Endpoint = new Uri(server.BaseUrl + "/v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(120),
        });

    public static Task<HttpResponseMessage> PostAsync(CapaTestServer server, string json) =>
        server.Http.PostAsync("/v1/audio/speech", new StringContent(json, Encoding.UTF8, "application/json"));
}
