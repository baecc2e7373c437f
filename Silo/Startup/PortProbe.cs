using System.Net;
using System.Net.Sockets;

namespace Granary.Silo.Startup;

/// <summary>
/// Checks, before the host starts, that the ports the silo is configured to listen on are free, so that a taken port
/// stops the silo with a message naming the port and its setting.
/// </summary>
/// <remarks>
/// Orleans' socket listener sets <see cref="SocketOptionName.ReuseAddress"/>, which .NET maps to SO_REUSEADDR and
/// SO_REUSEPORT on Linux: a second silo's bind to a taken silo or gateway port succeeds, and the kernel then shares the
/// connections between the two processes. The probe binds without SO_REUSEPORT (.NET sets only SO_REUSEADDR on Unix,
/// which tolerates connections in TIME_WAIT but no listener) and fails beside any listener, whatever its options. A
/// process that takes the port between the probe and the silo's own bind is not caught; that window is milliseconds.
/// </remarks>
internal static class PortProbe
{
    /// <summary>Throws <see cref="SiloConfigurationException"/> when <paramref name="port"/> cannot be bound on <paramref name="address"/>.</summary>
    /// <param name="address">The address the silo will listen on (<see cref="IPAddress.Any"/> probes every address).</param>
    /// <param name="port">The port; 0 (any free port) is not probed.</param>
    /// <param name="setting">The setting that chose the port, named in the message (<c>Granary:GatewayPort</c>).</param>
    public static void EnsureFree(IPAddress address, int port, string setting)
    {
        if (port == 0) return;
        if (port is < 0 or > IPEndPoint.MaxPort)
            throw new SiloConfigurationException($"{setting} is {port}; a port is between 1 and {IPEndPoint.MaxPort}.");
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (OperatingSystem.IsWindows()) socket.ExclusiveAddressUse = true;
        try
        {
            socket.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new SiloConfigurationException(
                $"Port {port} ({setting}) on {address} is in use by another process (another silo?); stop it or set {setting} to a free port.", e);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AccessDenied or SocketError.AddressNotAvailable)
        {
            throw new SiloConfigurationException($"Port {port} ({setting}) on {address} cannot be bound: {e.Message}.", e);
        }
    }
}
