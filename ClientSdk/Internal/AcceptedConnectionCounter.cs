using Microsoft.AspNetCore.Connections;
using Orleans.Configuration;

namespace Granary.Client.Internal;

/// <summary>
/// Counts the client's connections that a gateway accepted at the TCP level. Orleans reports a connection the gateway
/// closed during the connection handshake with the same exceptions as other dropped connections; this count is the
/// proof that the TCP connect itself succeeded (so the gateway is up and chose to close), as opposed to a refused or
/// unanswered connect.
/// </summary>
internal sealed class AcceptedConnectionCounter
{
    private int _accepted;

    /// <summary>Adds the counting step to the client's connections, outermost: before any TLS handshake.</summary>
    public void Apply(IClientBuilder client) =>
        client.Configure<ClientConnectionOptions>(connections => connections.ConfigureConnection(builder => builder.Use(next => context =>
        {
            // Orleans runs the connection's middleware only once the transport connected.
            Interlocked.Increment(ref _accepted);
            return next(context);
        })));

    /// <summary>The connections accepted since the last call.</summary>
    public int TakeAccepted() => Interlocked.Exchange(ref _accepted, 0);
}
