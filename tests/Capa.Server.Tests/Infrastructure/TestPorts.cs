using System.Net;
using System.Net.Sockets;

namespace Capa.Server.Tests.Infrastructure;

internal static class TestPorts
{
    /// <summary>A port on 127.0.0.1 that nothing listens on (it was free a moment ago).</summary>
    public static int FindClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
