using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Granary.LoadTest.Targets;

/// <summary>
/// Ports for the silos and servers that the tool and the tests start as child processes, taken below the kernel's
/// ephemeral port range. A port found free with bind(0) comes from that range: between releasing it and the child
/// binding it (or while a killed silo restarts on the same ports) the kernel may hand it to any outgoing connection of
/// the machine, and the child then fails to start with "address in use" while the caller waits for it to answer.
/// Below the range a port is only ever taken by an explicit bind, which <see cref="Next"/> checks for.
/// </summary>
internal static class FreePorts
{
    private const int Span = 10_000;
    private static readonly int s_low = LowestPort();
    // A random start per process, so that two processes taking ports at once (the tests and a tool they run) rarely
    // try the same ones; the bind check catches the rest.
    private static int s_next = Random.Shared.Next(Span);

    /// <summary>A loopback and wildcard TCP port that nothing listens on, below the ephemeral range.</summary>
    /// <exception cref="InvalidOperationException">Every port of the range is taken.</exception>
    public static int Next()
    {
        for (int attempt = 0; attempt < Span; attempt++)
        {
            int port = s_low + (int)((uint)Interlocked.Increment(ref s_next) % Span);
            if (IsFree(port)) return port;
        }
        throw new InvalidOperationException($"No free TCP port in {s_low}-{s_low + Span - 1}.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Any, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The first port of the range used: the <see cref="Span"/> ports just below Linux's ephemeral range (20000 elsewhere, below the 49152 of Windows and macOS).</summary>
    private static int LowestPort()
    {
        const string rangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(rangeFile)
            && File.ReadAllText(rangeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) is [var first, ..]
            && int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out int ephemeralLow)
            && ephemeralLow - Span >= 1024)
        {
            return ephemeralLow - Span;
        }
        return 20_000;
    }
}
