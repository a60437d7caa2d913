using System.Net;
using System.Net.Sockets;
using Capa.Cli.Commands;
using Capa.Cli.Repro;
using Capa.Cli.Tests.Fakes;
using OpenAI;
using OpenAI.Chat;

namespace Capa.Cli.Tests.Repro;

public sealed class EndpointErrorsTests
{
    [Fact]
    public async Task UnreachableServerIsOneLine()
    {
        var endpoint = new Uri($"http://127.0.0.1:{ClosedPort()}/v1");
        var client = new ClientConnection(endpoint, "k").CreateClient().GetChatClient("m");

        var e = await Assert.ThrowsAsync<CliException>(() => EndpointErrors.CallAsync(endpoint, () => client.CompleteChatAsync([new UserChatMessage("hi")])));

        Assert.StartsWith($"could not reach {endpoint}: ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task OpenAiErrorIsOneLineWithItsDetails()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        var client = new OpenAIClient(new System.ClientModel.ApiKeyCredential("k"), new OpenAIClientOptions { Endpoint = server.BaseUrl }).GetChatClient("error");

        var e = await Assert.ThrowsAsync<CliException>(() => EndpointErrors.CallAsync(server.BaseUrl, () => client.CompleteChatAsync([new UserChatMessage("hi")])));

        Assert.Equal($"{server.BaseUrl} answered 400: bad model (type invalid_request_error, param model)", e.Message);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
