using Microsoft.Extensions.Logging;

namespace Granary.Client.Internal;

/// <summary>
/// What Orleans tells the client about its gateways, kept for the health check and logged: how many it is connected
/// to, and whether it lost them all.
/// </summary>
internal sealed class ClientConnectionState(ILogger logger) : IClusterConnectionStatusObserver
{
    private volatile bool _lost;
    private int _gateways = -1;

    /// <summary>A client wrapping an Orleans client it did not connect: nothing is known, it counts as connected.</summary>
    public static ClientConnectionState Unobserved { get; } = new(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    /// <summary>True after the client lost every gateway, until one is back.</summary>
    public bool IsLost => _lost;

    /// <summary>Gateways connected to, as Orleans last reported; -1 before its first report.</summary>
    public int Gateways => Volatile.Read(ref _gateways);

    public void NotifyClusterConnectionLost()
    {
        _lost = true;
        ClientLog.ClusterConnectionLost(logger);
    }

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        Volatile.Write(ref _gateways, currentNumberOfGateways);
        if (connectionRecovered || currentNumberOfGateways > 0) _lost = false;
        ClientLog.GatewayCountChanged(logger, currentNumberOfGateways, previousNumberOfGateways, connectionRecovered ? "; connection recovered" : "");
    }
}
