using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Capa.Server.Vision;

/// <summary>
/// Which addresses an image URL may reach. By default only public unicast addresses: loopback, private (RFC 1918),
/// link-local, CGNAT (100.64/10), documentation, benchmarking and reserved ranges, IPv6 unique-local and link-local
/// are refused, and IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that
/// address. Some addresses are refused even where private networks are allowed: unspecified (0.0.0.0 reaches the
/// local host on Linux), multicast, broadcast and the cloud metadata services.
/// </summary>
public static class NetworkAddressPolicy
{
    /// <summary>Whether a connection to <paramref name="address"/> is allowed.</summary>
    public static bool IsAllowed(IPAddress address, bool allowPrivateNetworks)
    {
        ArgumentNullException.ThrowIfNull(address);
        var kind = Classify(address);
        return kind == AddressKind.Public || (kind == AddressKind.Private && allowPrivateNetworks);
    }

    /// <summary>The class of an address, IPv4 forms embedded in IPv6 judged by their IPv4 address.</summary>
    public static AddressKind Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return ClassifyV4(address.GetAddressBytes());
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return AddressKind.Forbidden;
        }

        var b = address.GetAddressBytes();
        if (EmbeddedV4(b) is { } v4)
        {
            return ClassifyV4(v4);
        }

        var high = BinaryPrimitives.ReadUInt16BigEndian(b);
        if (b.AsSpan().IndexOfAnyExcept((byte)0) < 0 || b[0] == 0xFF)
        {
            return AddressKind.Forbidden; // :: and multicast ff00::/8
        }

        if (IsMetadataV6(b))
        {
            return AddressKind.Forbidden;
        }

        if ((high & 0xE000) != 0x2000)
        {
            // Outside global unicast 2000::/3: ::1, fc00::/7 (unique-local), fe80::/10 (link-local), fec0::/10
            // (old site-local), 64:ff9b:1::/48 (local NAT64), 100::/64 (discard) and everything unassigned.
            return AddressKind.Private;
        }

        var second = BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(2));
        if (high == 0x2001 && (second == 0x0db8 || second == 0 || (second & 0xFFF0) == 0x0010 || (second & 0xFFF0) == 0x0020))
        {
            // Documentation 2001:db8::/32, Teredo 2001::/32 (its IPv4 address is hidden), ORCHID 2001:10::/28 and 2001:20::/28.
            return AddressKind.Private;
        }

        if (high == 0x3fff && (second & 0xF000) == 0)
        {
            return AddressKind.Private; // documentation 3fff::/20
        }

        return AddressKind.Public;
    }

    /// <summary>The address to put on the wire: IPv4-mapped IPv6 addresses as plain IPv4.</summary>
    internal static IPAddress ForConnect(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static byte[]? EmbeddedV4(byte[] b)
    {
        var span = b.AsSpan();

        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (the deprecated compatible form; :: and ::1 excluded).
        if (span[..10].IndexOfAnyExcept((byte)0) < 0)
        {
            var mapped = b[10] == 0xFF && b[11] == 0xFF;
            var compatible = b[10] == 0 && b[11] == 0 && span[12..].IndexOfAnyExcept((byte)0) >= 0
                && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] == 1);
            if (mapped || compatible)
            {
                return b[12..16];
            }
        }

        // 64:ff9b::a.b.c.d, the well-known NAT64 prefix: a translator connects to the embedded address.
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && span[4..12].IndexOfAnyExcept((byte)0) < 0)
        {
            return b[12..16];
        }

        // 2002:a.b.c.d::/48, 6to4: the relay sends to the embedded address.
        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return b[2..6];
        }

        return null;
    }

    private static AddressKind ClassifyV4(byte[] a)
    {
        if (a[0] == 0 || a[0] >= 224)
        {
            return AddressKind.Forbidden; // 0/8 "this network", 224/4 multicast, 240/4 reserved, broadcast
        }

        // Cloud metadata: AWS/GCP/Azure/OpenStack 169.254.169.254, AWS ECS 169.254.170.2, Alibaba 100.100.100.200.
        if ((a[0] == 169 && a[1] == 254 && ((a[2] == 169 && a[3] == 254) || (a[2] == 170 && a[3] == 2)))
            || (a[0] == 100 && a[1] == 100 && a[2] == 100 && a[3] == 200))
        {
            return AddressKind.Forbidden;
        }

        var isPrivate = a[0] == 10
            || a[0] == 127
            || (a[0] == 100 && (a[1] & 0xC0) == 64)         // 100.64/10 CGNAT
            || (a[0] == 169 && a[1] == 254)                  // link-local
            || (a[0] == 172 && (a[1] & 0xF0) == 16)          // 172.16/12
            || (a[0] == 192 && a[1] == 168)
            || (a[0] == 192 && a[1] == 0 && a[2] is 0 or 2)  // IETF protocol assignments, TEST-NET-1
            || (a[0] == 192 && a[1] == 88 && a[2] == 99)     // 6to4 relay anycast
            || (a[0] == 198 && (a[1] & 0xFE) == 18)          // 198.18/15 benchmarking
            || (a[0] == 198 && a[1] == 51 && a[2] == 100)    // TEST-NET-2
            || (a[0] == 203 && a[1] == 0 && a[2] == 113);    // TEST-NET-3
        return isPrivate ? AddressKind.Private : AddressKind.Public;
    }

    private static bool IsMetadataV6(byte[] b)
    {
        // fd00:ec2::254 (AWS IMDS over IPv6).
        ReadOnlySpan<byte> aws = [0xFD, 0x00, 0x0E, 0xC2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54];
        return aws.SequenceEqual(b);
    }
}

/// <summary>What <see cref="NetworkAddressPolicy"/> makes of an address.</summary>
public enum AddressKind
{
    /// <summary>A public unicast address: always allowed.</summary>
    Public,

    /// <summary>Loopback, private, link-local, CGNAT, unique-local and similar: allowed only with private networks.</summary>
    Private,

    /// <summary>Unspecified, multicast, broadcast, reserved, cloud metadata: never allowed.</summary>
    Forbidden,
}
