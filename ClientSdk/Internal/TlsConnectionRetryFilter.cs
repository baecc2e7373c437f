using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Granary.Client.Internal;

/// <summary>
/// The connection retry policy of a TLS client: Orleans' own (retry refused and failed connections, waiting 1.5 s
/// longer each time, here at most 5 s, until the connect timeout), but it keeps the last failure, because a refused
/// handshake looks like any dropped connection and the timeout error should say what the last attempt saw.
/// </summary>
internal sealed class TlsConnectionRetryFilter : IClientConnectionRetryFilter
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(1500);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);
    private int _attempts;
    private volatile Exception? _lastFailure;

    /// <summary>The exception of the last failed connection attempt, or null.</summary>
    public Exception? LastFailure => _lastFailure;

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        _lastFailure = exception;
        if (cancellationToken.IsCancellationRequested || exception is not (OrleansMessageRejectionException or ConnectionFailedException)) return false;
        var delay = Step * Interlocked.Increment(ref _attempts);
        await Task.Delay(delay < MaxDelay ? delay : MaxDelay, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The innermost message of the last failure (Orleans wraps the cause in two layers of "unable to connect").</summary>
    public string? LastCause
    {
        get
        {
            var failure = _lastFailure;
            while (failure?.InnerException is not null) failure = failure.InnerException;
            return failure?.Message;
        }
    }
}
