using System.Net;
using Granary.Client.Internal;
using Granary.Grains;
using Granary.Grains.Security;
using System.Diagnostics;
using System.Security.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Configuration;

namespace Granary.Client;

/// <summary>
/// A connection to a Granary cluster. Long-lived and thread-safe: create one per application and share it; it hands
/// out producers, consumers and the <see cref="Admin"/> API.
/// </summary>
public sealed class GranaryClient : IAsyncDisposable
{
    private readonly IHost? _ownedHost;
    private readonly TimeSpan _responseTimeout;

    /// <summary>The longest server-side wait of a long poll: half the call timeout, so a poll never times out.</summary>
    internal TimeSpan LongPollLimit(TimeSpan wanted) => wanted < _responseTimeout / 2 ? wanted : _responseTimeout / 2;

    private readonly CertificateIdentity? _certificateIdentity;

    private GranaryClient(IClusterClient cluster, IHost? ownedHost, TimeSpan responseTimeout, ILoggerFactory loggerFactory,
        ClientConnectionState connectionState, CertificateIdentity? certificateIdentity = null)
    {
        ConnectionState = connectionState;
        Cluster = cluster;
        LoggerFactory = loggerFactory;
        _ownedHost = ownedHost;
        _responseTimeout = responseTimeout;
        _certificateIdentity = certificateIdentity;
        Admin = new GranaryAdmin(cluster);
    }

    /// <summary>
    /// The principal the cluster mapped this client's certificate to, when it signed in with one
    /// (<see cref="GranaryClientOptions.UseCertificateIdentity"/>) on a cluster whose security is on; otherwise null.
    /// </summary>
    public string? CertificatePrincipal => _certificateIdentity?.Principal;

    internal IClusterClient Cluster { get; }

    /// <summary>What Orleans last said about the client's gateways.</summary>
    internal ClientConnectionState ConnectionState { get; }

    /// <summary>Where the client, its producers and consumers log.</summary>
    internal ILoggerFactory LoggerFactory { get; }

    /// <summary>Topic administration.</summary>
    public GranaryAdmin Admin { get; }

    /// <summary>Connects to the gateways in <paramref name="options"/>.</summary>
    /// <exception cref="GranaryException">
    /// <see cref="GranaryErrorCode.PartitionUnavailable"/> at once when a gateway refuses the connection (nothing listens at
    /// that port: the message says "refused", the inner exception is the socket error), unless
    /// <see cref="GranaryClientOptions.RetryRefusedConnections"/> is set. <see cref="GranaryErrorCode.Timeout"/> when no
    /// gateway accepted the connection within <see cref="GranaryClientOptions.ConnectTimeout"/>; the message says what
    /// the last attempt saw (when the gateway closed it during the handshake, the probable causes) and the inner
    /// exception is its failure.
    /// <see cref="GranaryErrorCode.Unauthenticated"/> at once when the client's TLS handshake fails (the client does not
    /// trust the silo's certificate, or the gateway does not speak TLS): the message says "TLS handshake", the inner
    /// exception is the handshake's error (an <see cref="System.Security.Authentication.AuthenticationException"/>).
    /// <see cref="GranaryErrorCode.Unauthenticated"/> also, after three attempts (a few seconds), when the gateway
    /// accepts the connection and closes it during the handshake, as a TLS-only gateway does to a client without TLS
    /// and a mutual-TLS gateway to a client whose certificate it refuses or that has none: the message says "closed the
    /// connection during the handshake" and names the probable causes, the inner exception is Orleans' connection
    /// failure. <see cref="GranaryClientOptions.RetryRefusedConnections"/> does not change this (a silo still starting
    /// refuses the connection or leaves it waiting; it does not close it).
    /// </exception>
    /// <exception cref="ArgumentException">The options are inconsistent (for example TLS files that do not exist).</exception>
    /// <exception cref="InvalidOperationException">The TLS client certificate or CA file cannot be used.</exception>
    /// <remarks>
    /// With a credential (<see cref="GranaryClientOptions.ApiKey"/>, an access token, or a certificate sign-in), every
    /// call carries it. A cluster whose security is on refuses calls without a valid one with
    /// <see cref="GranaryErrorCode.Unauthenticated"/>, and calls the principal may not make with <see cref="GranaryErrorCode.NotAllowed"/>;
    /// neither is retried. A certificate sign-in happens here: a refused certificate fails the connect with
    /// <see cref="GranaryErrorCode.Unauthenticated"/> and the reason.
    /// </remarks>
    public static async Task<GranaryClient> ConnectAsync(GranaryClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var endpoints = await Task.WhenAll(options.Gateways.Select(ResolveAsync)).ConfigureAwait(false);
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<GranaryClient>();
        string target = options.ConnectionString is null ? string.Join(", ", options.Gateways) : "the gateways in the membership table";
        ClientLog.Connecting(logger, options.ClusterId, target);
        var clock = Stopwatch.StartNew();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // Orleans' own client logs go where the application's do (the container does not dispose a given instance).
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        var tls = new ClientTls();
        int refusalsToGiveUp = options.RetryRefusedConnections || options.ConnectionString is not null ? int.MaxValue : options.Gateways.Count;
        var accepted = new AcceptedConnectionCounter();
        // Closes end the connect even with RetryRefusedConnections: a silo still starting refuses or leaves the
        // connection waiting, it does not close it.
        var retries = new ConnectionRetryFilter(refusalsToGiveUp, ClosesToGiveUp, tls, accepted, logger);
        var connectionState = new ClientConnectionState(logger);
        var credential = new ClientCredential(options);
        builder.UseOrleansClient(client =>
        {
            client.AddOutgoingGrainCallFilter(credential);
            accepted.Apply(client); // before TLS, so that it sees the TCP connection and not the TLS one
            tls.Apply(client, options.Tls);
            client.UseConnectionRetryFilter(retries);
            client.Services.AddSingleton<IClusterConnectionStatusObserver>(connectionState);
            client.Configure<ClusterOptions>(o => { o.ClusterId = options.ClusterId; o.ServiceId = options.ServiceId; });
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = options.ResponseTimeout);
            if (string.IsNullOrWhiteSpace(options.ConnectionString)) client.UseStaticClustering(endpoints);
            else MembershipTableClustering.Apply(client, options.ConnectionString);
        });
        var host = builder.Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await host.StartAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            string message = options.ConnectionString is null
                ? $"No gateway of {target} accepted the connection within {options.ConnectTimeout}."
                : $"No gateway of the cluster in the membership table accepted the connection within {options.ConnectTimeout}.";
            message += " " + TimeoutHint(target, options.Tls, tls, retries);
            ClientLog.ConnectFailed(logger, options.ClusterId, message, retries.LastFailure);
            throw new GranaryException(GranaryErrorCode.Timeout, message, retries.LastFailure);
        }
        catch (Exception e) when (e is not OperationCanceledException and not GranaryException)
        {
            // The retry filter gave up: a refused connection, or a failure retrying cannot fix.
            host.Dispose();
            // The filter's verdict when it gave up on this failure (it knows whether a gateway accepted the connection).
            var kind = ReferenceEquals(e, retries.LastFailure) ? retries.LastKind : ConnectionRetryFilter.Classify(e, tls);
            if (kind == ConnectFailureKind.ClosedDuringHandshake)
            {
                string closedMessage = ClosedDuringHandshake(target, options.Tls, retries.ClosesInARow);
                ClientLog.ConnectFailed(logger, options.ClusterId, closedMessage, e);
                throw new GranaryException(GranaryErrorCode.Unauthenticated, closedMessage, e);
            }
            if (kind == ConnectFailureKind.Tls)
            {
                // The handshake's own error, not Orleans' "connection closed" that followed it. SslStream reports a
                // gateway that does not speak TLS as an IOException: all of them are an AuthenticationException to the
                // caller, the original inside. (A handshake that timed out is retried: see ClientTls.HandshakeFailure.)
                var cause = tls.HandshakeFailure ?? e;
                string tlsMessage = TlsHandshakeFailed(target, tls, cause);
                var handshake = cause as AuthenticationException ?? new AuthenticationException(tlsMessage, cause);
                ClientLog.ConnectFailed(logger, options.ClusterId, tlsMessage, handshake);
                throw new GranaryException(GranaryErrorCode.Unauthenticated, tlsMessage, handshake);
            }
            string message = kind == ConnectFailureKind.Refused
                ? $"Connection refused by {target}: nothing listens there (is the silo running, and is that its gateway port?). "
                  + "Set RetryRefusedConnections to keep trying until the connect timeout."
                : $"Connecting to {target} failed ({kind}): {e.Message}";
            ClientLog.ConnectFailed(logger, options.ClusterId, message, e);
            throw new GranaryException(GranaryErrorCode.PartitionUnavailable, message, e);
        }
        ClientLog.Connected(logger, options.ClusterId, clock.ElapsedMilliseconds);
        var cluster = host.Services.GetRequiredService<IClusterClient>();
        CertificateIdentity? identity = null;
        if (options.SignsInWithCertificate)
        {
            try
            {
                var certificate = TlsCertificates.LoadFromFile(options.Tls.CertificatePath!, options.Tls.KeyPath, options.Tls.CertificatePassword);
                var intermediates = CertificateIdentity.IntermediatesIn(options.Tls.CertificatePath!, options.Tls.CertificatePassword, certificate);
                identity = new CertificateIdentity(cluster, certificate, options.ServiceId, TimeProvider.System, intermediates);
                await identity.SignInAsync().ConfigureAwait(false);
                credential.Certificate = identity;
            }
            catch
            {
                identity?.Dispose();
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                host.Dispose();
                throw;
            }
        }
        return new GranaryClient(cluster, host, options.ResponseTimeout, loggerFactory, connectionState, identity);
    }

    /// <summary>Wraps an Orleans client the application already runs (for example inside a silo or a test cluster).</summary>
    public static GranaryClient Create(IClusterClient cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return new GranaryClient(cluster, ownedHost: null, responseTimeout: TimeSpan.FromSeconds(30),
            cluster.ServiceProvider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance, ClientConnectionState.Unobserved);
    }

    /// <summary>Creates a producer for <paramref name="topic"/>. Share it: it batches for all its callers.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/>.</exception>
    public GranaryProducer CreateProducer(string topic, ProducerOptions? options = null) => new(this, topic, options ?? new ProducerOptions());

    /// <summary>Creates a consumer of <paramref name="topic"/> in <paramref name="group"/>; it joins when first read.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/>.</exception>
    public GranaryConsumer CreateConsumer(string topic, string group, ConsumerOptions? options = null) => new(this, topic, group, options ?? new ConsumerOptions());

    /// <summary>Disconnects (when this client made the connection).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_ownedHost is null) return;
        try
        {
            await _ownedHost.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            _ownedHost.Dispose();
            _certificateIdentity?.Dispose();
        }
    }

    /// <summary>
    /// Attempts in a row that must end with a gateway closing the connection during the handshake before the connect
    /// fails: more than one, so that a silo closing its gateway as it stops (between two refusals) does not end it.
    /// </summary>
    private const int ClosesToGiveUp = 3;

    // The gateway was up (it accepted the TCP connection) and closed it before the Orleans handshake: a TLS gateway does
    // that to a plain client, a mutual-TLS gateway to a client whose certificate it refuses (or that has none). The
    // gateway does not say which, so the message names the probable causes for this client's settings.
    private static string ClosedDuringHandshake(string target, GranaryClientTlsOptions tls, int times)
    {
        string closed = $"The gateway ({target}) closed the connection during the handshake ({times} attempts in a row): ";
        if (!tls.Enabled)
            return closed + "it may require TLS (set Tls.Enabled, with the Granary.Client.Tls package; under mutual TLS also a client certificate).";
        return closed + (string.IsNullOrWhiteSpace(tls.CertificatePath)
            ? "it may require mutual TLS, and this client presents no certificate (set Tls.CertificatePath and Tls.KeyPath)."
            : $"it may refuse this client's certificate '{tls.CertificatePath}' (under mutual TLS it must chain to the CA the silos trust and allow clientAuth; the silo logs why).");
    }

    // A silo that refuses the client's certificate just closes the connection, which the client cannot tell from a
    // silo still starting; the hint names the likely causes, and what the client itself refused if it did.
    private static string LastAttempt(ConnectionRetryFilter retries) =>
        retries.LastCause is { } cause ? $"The last attempt ended with: {cause}." : "";

    private static string TlsHandshakeFailed(string target, ClientTls tls, Exception handshake) =>
        tls.LastRejection is { } rejected
            ? $"TLS handshake with {target} failed: this client refused the silo's certificate: {rejected}."
            : $"TLS handshake with {target} failed: {handshake.Message} (do the silos use TLS? Granary:Tls:Enabled; under mutual TLS, "
              + "do they accept this client's certificate?)";

    // What the last attempt saw; when the gateway closed it during the handshake (too few times in a row to give up
    // before the timeout), the probable causes of that.
    private static string TimeoutHint(string target, GranaryClientTlsOptions options, ClientTls tls, ConnectionRetryFilter retries) =>
        tls.LastRejection is { } rejected
            ? $"TLS: this client refused the silo's certificate: {rejected}."
            : retries.LastKind == ConnectFailureKind.ClosedDuringHandshake
                ? ClosedDuringHandshake(target, options, retries.ClosesInARow)
                : LastAttempt(retries);

    private static async Task<IPEndPoint> ResolveAsync(string gateway)
    {
        if (IPEndPoint.TryParse(gateway, out var endpoint) && endpoint.Port != 0) return endpoint;
        int colon = gateway.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(gateway.AsSpan(colon + 1), out int port))
            throw new ArgumentException($"Gateway '{gateway}' is not host:port.", nameof(gateway));
        var addresses = await Dns.GetHostAddressesAsync(gateway[..colon]).ConfigureAwait(false);
        var address = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? addresses.First();
        return new IPEndPoint(address, port);
    }

    /// <summary>
    /// Makes a grain call, translating its failure. A cancelled <paramref name="cancellationToken"/> stops the wait
    /// (the grain interfaces take no token: the call itself runs on in the cluster).
    /// </summary>
    internal static async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return await call().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not GranaryException and not OperationCanceledException)
        {
            throw Errors.Translate(e);
        }
    }

    /// <summary>Makes a grain call, translating its failure (see <see cref="CallAsync{T}"/>).</summary>
    internal static async Task CallAsync(Func<Task> call, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            await call().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not GranaryException and not OperationCanceledException)
        {
            throw Errors.Translate(e);
        }
    }

    internal ITopicGrain Topic(string topic) => Cluster.GetGrain<ITopicGrain>(topic);
}
