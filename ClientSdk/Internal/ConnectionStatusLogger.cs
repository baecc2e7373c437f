using Microsoft.Extensions.Logging;

namespace Granary.Client.Internal;

/// <summary>Logs when the client loses its gateways and when their count changes (Orleans tells these observers).</summary>
internal sealed class ConnectionStatusLogger(ILogger logger) : IClusterConnectionStatusObserver
{
    public void NotifyClusterConnectionLost() => ClientLog.ClusterConnectionLost(logger);

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered) =>
        ClientLog.GatewayCountChanged(logger, currentNumberOfGateways, previousNumberOfGateways, connectionRecovered ? "; connection recovered" : "");
}
