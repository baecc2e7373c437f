namespace Granary.Client;

/// <summary>
/// The host's <see cref="GranaryClient"/>, connected without blocking a thread: registered by
/// <c>AddGranaryClient</c>. The host connects it when it starts; code that may run before that (a hosted service
/// of its own, a health check) awaits it here instead of resolving <see cref="GranaryClient"/>.
/// </summary>
public interface IGranaryClientProvider
{
    /// <summary>
    /// The connected client: connects on the first call if the host has not yet, and again after a failed attempt.
    /// <paramref name="cancellationToken"/> stops the wait, not a connection in progress (others may wait for it).
    /// </summary>
    /// <exception cref="GranaryException">The connection failed (see <see cref="GranaryClient.ConnectAsync"/>).</exception>
    Task<GranaryClient> GetClientAsync(CancellationToken cancellationToken = default);

    /// <summary>The client once connected; null before (or while the last attempt failed).</summary>
    GranaryClient? Connected { get; }
}
