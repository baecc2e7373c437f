using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Granary.Client.Internal;

/// <summary>
/// The connection retry policy of <see cref="GranaryClient.ConnectAsync"/>: Orleans' own (retry refused and failed
/// connections, waiting 1.5 s longer each time, here at most 5 s, until the connect timeout), except that a refused
/// connection (nothing listens at the gateway) ends the connect once there were as many refusals as gateways, unless
/// <see cref="GranaryClientOptions.RetryRefusedConnections"/> is set (or the gateways come from the membership table,
/// which may still list silos that are gone), a failed TLS handshake on the client's side ends it at once, and a
/// gateway that accepted the TCP connection and closed it during the connection handshake ends it after
/// <c>closesToGiveUp</c> such attempts with no refused or timed-out one in between (a TLS-only gateway reading a plain
/// client's preamble, a mutual-TLS gateway refusing the client's certificate: both fail the same way every time, while
/// a silo restarting refuses the connection instead). It logs every failed attempt and keeps the last one, so that
/// the final error says what the last attempt saw.
/// </summary>
internal sealed class ConnectionRetryFilter(int refusalsToGiveUp, int closesToGiveUp, ClientTls tls, AcceptedConnectionCounter accepted, ILogger logger)
    : IClientConnectionRetryFilter
{
    private int _refusals;
    private int _closesInARow;
    private volatile Exception? _lastFailure;
    private volatile ConnectFailureKind _lastKind;
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(1500);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);
    private int _attempts;

    /// <summary>The exception of the last failed connection attempt, or null.</summary>
    public Exception? LastFailure => _lastFailure;

    /// <summary>What the filter made of <see cref="LastFailure"/>.</summary>
    public ConnectFailureKind LastKind => _lastKind;

    /// <summary>How many attempts in a row ended with the gateway closing the connection during the handshake.</summary>
    public int ClosesInARow => Volatile.Read(ref _closesInARow);

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        int attempt = Interlocked.Increment(ref _attempts);
        var kind = Classify(exception, tls);
        // A dropped connection counts as closed by the gateway only if a gateway did accept one since the last attempt.
        if (accepted.TakeAccepted() == 0 && kind == ConnectFailureKind.ClosedDuringHandshake) kind = ConnectFailureKind.Other;
        _lastKind = kind;
        _lastFailure = exception;
        ClientLog.ConnectAttemptFailed(logger, attempt, kind, Innermost(exception)?.Message, exception);
        // A failed TLS handshake (the silo's certificate refused, a gateway without TLS) fails the same way next time.
        if (kind == ConnectFailureKind.Tls) return false;
        // A gateway that cannot be reached is not one that closes: only closes with nothing else in between count.
        if (kind is ConnectFailureKind.Refused or ConnectFailureKind.TimedOut) Interlocked.Exchange(ref _closesInARow, 0);
        if (kind == ConnectFailureKind.ClosedDuringHandshake && Interlocked.Increment(ref _closesInARow) >= closesToGiveUp) return false;
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
            // Orleans' own limit on opening a connection (ConnectionOptions.OpenConnectionTimeout): the gateway did not answer.
            if (e is ConnectionFailedException { InnerException: null } && e.Message.Contains(" timed out after ", StringComparison.Ordinal)) return ConnectFailureKind.TimedOut;
        }
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (IsClosedByPeer(e)) return ConnectFailureKind.ClosedDuringHandshake;
        }
        return ConnectFailureKind.Other;
    }

    /// <summary>
    /// How Orleans reports a connection the other side closed before the connection preamble was exchanged: the
    /// transport's close (<see cref="ConnectionAbortedException"/> "Underlying connection closed"), the preamble read
    /// ending early, a reset, or (under TLS) the stream ending.
    /// </summary>
    private static bool IsClosedByPeer(Exception e) =>
        e is ConnectionAbortedException or ConnectionResetException or EndOfStreamException
            or SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown }
        || (e is InvalidOperationException && e.Message.Contains("terminated prematurely", StringComparison.Ordinal))
        || e.GetType() == typeof(IOException);

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

    /// <summary>
    /// The gateway accepted the TCP connection and closed it before the connection handshake completed (a gateway that
    /// requires TLS, or refuses the client's certificate).
    /// </summary>
    ClosedDuringHandshake,
}
