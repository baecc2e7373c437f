using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Granary.Tests.Silo;

/// <summary>This machine's addresses as another machine would reach them, to tell a loopback listener from an open one.</summary>
internal static class LocalAddresses
{
    /// <summary>An IPv4 address of an interface that is up and is not loopback; null when the machine has none.</summary>
    public static IPAddress? NonLoopbackIPv4() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));

    /// <summary>Whether a TCP connection to <paramref name="address"/>:<paramref name="port"/> is accepted.</summary>
    public static async Task<bool> AcceptsAsync(IPAddress address, int port)
    {
        using var client = new TcpClient(address.AddressFamily);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await client.ConnectAsync(address, port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }
}
