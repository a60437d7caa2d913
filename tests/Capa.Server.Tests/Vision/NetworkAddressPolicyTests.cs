using System.Net;
using Capa.Server.Vision;

namespace Capa.Server.Tests.Vision;

public sealed class NetworkAddressPolicyTests
{
    [Theory]
    [InlineData("93.184.215.14", AddressKind.Public)]
    [InlineData("8.8.8.8", AddressKind.Public)]
    [InlineData("100.63.255.255", AddressKind.Public)]
    [InlineData("100.128.0.0", AddressKind.Public)]
    [InlineData("172.15.255.255", AddressKind.Public)]
    [InlineData("172.32.0.0", AddressKind.Public)]
    [InlineData("127.0.0.1", AddressKind.Private)]
    [InlineData("127.255.255.254", AddressKind.Private)]
    [InlineData("10.0.0.1", AddressKind.Private)]
    [InlineData("172.16.0.1", AddressKind.Private)]
    [InlineData("172.31.255.255", AddressKind.Private)]
    [InlineData("192.168.0.1", AddressKind.Private)]
    [InlineData("100.64.0.1", AddressKind.Private)]
    [InlineData("100.127.255.255", AddressKind.Private)]
    [InlineData("169.254.1.1", AddressKind.Private)]
    [InlineData("192.0.2.1", AddressKind.Private)]
    [InlineData("198.18.0.1", AddressKind.Private)]
    [InlineData("198.51.100.1", AddressKind.Private)]
    [InlineData("203.0.113.1", AddressKind.Private)]
    [InlineData("169.254.169.254", AddressKind.Forbidden)]
    [InlineData("169.254.170.2", AddressKind.Forbidden)]
    [InlineData("100.100.100.200", AddressKind.Forbidden)]
    [InlineData("0.0.0.0", AddressKind.Forbidden)]
    [InlineData("0.1.2.3", AddressKind.Forbidden)]
    [InlineData("224.0.0.1", AddressKind.Forbidden)]
    [InlineData("239.255.255.250", AddressKind.Forbidden)]
    [InlineData("240.0.0.1", AddressKind.Forbidden)]
    [InlineData("255.255.255.255", AddressKind.Forbidden)]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946", AddressKind.Public)]
    [InlineData("2001:4860:4860::8888", AddressKind.Public)]
    [InlineData("::", AddressKind.Forbidden)]
    [InlineData("::1", AddressKind.Private)]
    [InlineData("fc00::1", AddressKind.Private)]
    [InlineData("fd12:3456::1", AddressKind.Private)]
    [InlineData("fe80::1", AddressKind.Private)]
    [InlineData("fec0::1", AddressKind.Private)]
    [InlineData("ff02::1", AddressKind.Forbidden)]
    [InlineData("fd00:ec2::254", AddressKind.Forbidden)]
    [InlineData("2001:db8::1", AddressKind.Private)]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", AddressKind.Private)]
    [InlineData("64:ff9b:1::1", AddressKind.Private)]
    [InlineData("100::1", AddressKind.Private)]
    [InlineData("::ffff:127.0.0.1", AddressKind.Private)]
    [InlineData("::ffff:8.8.8.8", AddressKind.Public)]
    [InlineData("::ffff:169.254.169.254", AddressKind.Forbidden)]
    [InlineData("::10.0.0.1", AddressKind.Private)]
    [InlineData("64:ff9b::7f00:1", AddressKind.Private)]
    [InlineData("64:ff9b::808:808", AddressKind.Public)]
    [InlineData("2002:c0a8:101::1", AddressKind.Private)]
    [InlineData("2002:0808:0808::1", AddressKind.Public)]
    public void Classify(string address, AddressKind expected)
    {
        Assert.Equal(expected, NetworkAddressPolicy.Classify(IPAddress.Parse(address)));
    }

    [Fact]
    public void PrivateNetworks_CanBeAllowed_ButNeverMetadataOrUnspecified()
    {
        Assert.False(NetworkAddressPolicy.IsAllowed(IPAddress.Loopback, allowPrivateNetworks: false));
        Assert.True(NetworkAddressPolicy.IsAllowed(IPAddress.Loopback, allowPrivateNetworks: true));
        Assert.True(NetworkAddressPolicy.IsAllowed(IPAddress.Parse("10.1.2.3"), allowPrivateNetworks: true));
        Assert.False(NetworkAddressPolicy.IsAllowed(IPAddress.Parse("169.254.169.254"), allowPrivateNetworks: true));
        Assert.False(NetworkAddressPolicy.IsAllowed(IPAddress.Any, allowPrivateNetworks: true));
        Assert.False(NetworkAddressPolicy.IsAllowed(IPAddress.Parse("224.0.0.1"), allowPrivateNetworks: true));
        Assert.True(NetworkAddressPolicy.IsAllowed(IPAddress.Parse("8.8.8.8"), allowPrivateNetworks: false));
    }

    [Fact]
    public void TheDomainAllowList_MatchesHostsAndSubdomainPatterns()
    {
        var list = new DomainAllowList(["Example.com", "*.cdn.example.org", "[2001:db8::1]"]);
        Assert.True(list.Allows("example.com"));
        Assert.True(list.Allows("EXAMPLE.COM"));
        Assert.False(list.Allows("www.example.com"));
        Assert.False(list.Allows("example.com.evil.net"));
        Assert.True(list.Allows("a.cdn.example.org"));
        Assert.True(list.Allows("a.b.cdn.example.org"));
        Assert.False(list.Allows("cdn.example.org"));
        Assert.False(list.Allows("evilcdn.example.org"));
        Assert.True(list.Allows("[2001:db8::1]"));
        Assert.True(DomainAllowList.Any.Allows("anything.example"));
        Assert.False(DomainAllowList.IsValidEntry("*"));
        Assert.False(DomainAllowList.IsValidEntry("https://example.com"));
        Assert.False(DomainAllowList.IsValidEntry(""));
    }
}
