namespace Granary.Client.Internal;

/// <summary>
/// The one connection of a host's <see cref="GranaryClient"/>: connects on first use (or at host start), shares the
/// result, and tries again on the next call after a failed attempt. It does not own the client: the container
/// disposes a client it created through its factory, and never one that was registered as an instance.
/// </summary>
internal sealed class GranaryClientConnection(Func<Task<GranaryClient>> connect) : IGranaryClientProvider
{
    private readonly Lock _lock = new();
    private Task<GranaryClient>? _connecting;

    /// <summary>The connected client. <paramref name="cancellationToken"/> stops the wait, not a connection in progress.</summary>
    public Task<GranaryClient> ConnectAsync(CancellationToken cancellationToken)
    {
        Task<GranaryClient> connecting;
        lock (_lock)
        {
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled) _connecting = connect();
            connecting = _connecting;
        }
        return connecting.WaitAsync(cancellationToken);
    }

    public Task<GranaryClient> GetClientAsync(CancellationToken cancellationToken = default) => ConnectAsync(cancellationToken);

    public GranaryClient? Connected
    {
        get
        {
            lock (_lock) return _connecting is { IsCompletedSuccessfully: true } done ? done.Result : null;
        }
    }
}
