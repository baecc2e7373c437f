using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Granary.Client.Internal;

/// <summary>Connects the host's <see cref="GranaryClient"/> when the host starts, so a wrong gateway fails the start.</summary>
internal sealed class GranaryClientConnector(GranaryClientConnection connection, IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await connection.ConnectAsync(cancellationToken).ConfigureAwait(false);
        // Resolved through the container, which then owns (and at the end disposes) a client it connected.
        _ = services.GetRequiredService<GranaryClient>();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
