using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Granary.Client.Internal;

/// <summary>
/// The connection retry policy of <see cref="GranaryClient.ConnectAsync"/>: Orleans' own (retry refused and failed
/// connections, waiting 1.5 s longer each time, here at most 5 s, until the connect timeout), except that a refused
/// connection (nothing listens at the gateway) ends the connect once there were as many refusals as gateways, unless
/// <see cref="GranaryClientOptions.RetryRefusedConnections"/> is set (or the gateways come from the membership table,
/// which may still list silos that are gone), and a failed TLS handshake on the client's side ends it at once. It logs every failed attempt and keeps the last one, because a handshake the silo refused
/// looks like any dropped connection and the timeout error should say what the last attempt saw.
/// </summary>
internal sealed class ConnectionRetryFilter(int refusalsToGiveUp, ClientTls tls, ILogger logger) : IClientConnectionRetryFilter
{
    private int _refusals;
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(1500);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);
    private int _attempts;
    private volatile Exception? _lastFailure;

    /// <summary>The exception of the last failed connection attempt, or null.</summary>
    public Exception? LastFailure => _lastFailure;

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        _lastFailure = exception;
        int attempt = Interlocked.Increment(ref _attempts);
        var kind = Classify(exception, tls);
        ClientLog.ConnectAttemptFailed(logger, attempt, kind, Innermost(exception)?.Message, exception);
        // A failed TLS handshake (the silo's certificate refused, a gateway without TLS) fails the same way next time.
        if (kind == ConnectFailureKind.Tls) return false;
        if (cancellationToken.IsCancellationRequested || exception is not (OrleansMessageRejectionException or ConnectionFailedException or SiloUnavailableException)) return false;
        // Orleans tries the next gateway on a retry: give up once refusals have had the chance to cover them all.
        if (kind == ConnectFailureKind.Refused && Interlocked.Increment(ref _refusals) >= refusalsToGiveUp) return false;
        var delay = Step * attempt;
        await Task.Delay(delay < MaxDelay ? delay : MaxDelay, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The innermost message of the last failure (Orleans wraps the cause in two layers of "unable to connect").</summary>
    public string? LastCause => Innermost(_lastFailure)?.Message;

    /// <summary>What a failed connection attempt says about its cause.</summary>
    public static ConnectFailureKind Classify(Exception? exception, ClientTls tls)
    {
        if (tls.LastRejection is not null || tls.HandshakeFailure is not null) return ConnectFailureKind.Tls;
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.ConnectionRefused } || IsOrleansSocketError(e, SocketError.ConnectionRefused)) return ConnectFailureKind.Refused;
            if (e is AuthenticationException) return ConnectFailureKind.Tls;
            if (e is SocketException { SocketErrorCode: SocketError.TimedOut } or TimeoutException || IsOrleansSocketError(e, SocketError.TimedOut)) return ConnectFailureKind.TimedOut;
        }
        return ConnectFailureKind.Other;
    }

    /// <summary>
    /// Orleans reports a failed socket connect as a <see cref="Orleans.Networking.Shared.SocketConnectionException"/>
    /// without an inner exception, its <see cref="SocketError"/> only at the end of the message ("... Error: ConnectionRefused").
    /// </summary>
    private static bool IsOrleansSocketError(Exception e, SocketError error) =>
        e is Orleans.Networking.Shared.SocketConnectionException && e.Message.EndsWith($"Error: {error}", StringComparison.Ordinal);

    private static Exception? Innermost(Exception? failure)
    {
        while (failure?.InnerException is not null) failure = failure.InnerException;
        return failure;
    }
}

/// <summary>Why a connection attempt failed, as far as the client can tell.</summary>
internal enum ConnectFailureKind
{
    /// <summary>Nothing else known (a dropped connection: under TLS often a handshake the silo refused).</summary>
    Other,

    /// <summary>The gateway's host refused the TCP connection: nothing listens at that port.</summary>
    Refused,

    /// <summary>The connection attempt timed out (a host that does not answer, a firewall that drops).</summary>
    TimedOut,

    /// <summary>The TLS handshake failed.</summary>
    Tls,
}
