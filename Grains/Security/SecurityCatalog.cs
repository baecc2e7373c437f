using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Grains.Security;

/// <summary>
/// Every silo's view of the keys and rules: the last snapshot read from the <see cref="ISecurityStore"/>, re-read when
/// the store's version moves (polled every <see cref="GranarySecurityOptions.RefreshInterval"/>, and at once after a
/// change made here). Answers who a credential is and what a principal may do from memory, with both answers cached
/// until the snapshot changes, so the check on every call costs a dictionary lookup.
/// </summary>
public sealed partial class SecurityCatalog : BackgroundService
{
    // Bounds the caches against a client cycling through garbage credentials or resource names: a full cache starts
    // over rather than stop caching, so that the credentials in use keep their fast path.
    private const int MaxCacheEntries = 10_000;

    private readonly ISecurityStore _store;
    private readonly GranarySecurityOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SecurityCatalog> _logger;
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly byte[]? _bootstrapHash;
    private State _state;
    private bool _loadFailing;
    private bool _loaded;

    /// <summary>A catalog over <paramref name="store"/>; empty until the first refresh.</summary>
    public SecurityCatalog(ISecurityStore store, IOptions<GranarySecurityOptions> options, TimeProvider time, ILogger<SecurityCatalog> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _bootstrapHash = _options.BootstrapKey is { Length: > 0 } key ? ApiKeys.Hash(key) : null;
        _state = new State(SecuritySnapshot.Empty, new AccessPolicy([], _options.Superusers));
    }

    /// <summary>Whether security is on (<see cref="GranarySecurityOptions.Enabled"/>).</summary>
    public bool Enabled => _options.Enabled;

    /// <summary>The keys and rules in force on this silo.</summary>
    public SecuritySnapshot Snapshot => _state.Snapshot;

    /// <summary>The rules in force on this silo.</summary>
    public AccessPolicy Policy => _state.Policy;

    /// <summary>
    /// The principal an API key (or the bootstrap key) authenticates as, or null for an unknown, malformed or revoked
    /// key.
    /// </summary>
    public Principal? AuthenticateApiKey(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var state = _state;
        if (state.Principals.TryGetValue(text, out var cached)) return cached;
        var principal = Lookup(state.Snapshot, text);
        // Only credentials that work are remembered: garbage sent by anyone must not crowd out the keys in use.
        if (principal is null) return null;
        if (state.Principals.Count >= MaxCacheEntries) state.Principals.Clear();
        state.Principals.TryAdd(text, principal);
        return principal;
    }

    /// <summary>Whether <paramref name="principal"/> may do <paramref name="operation"/> to the named resource (see <see cref="AccessPolicy"/>).</summary>
    public bool IsAllowed(Principal principal, ResourceType resourceType, string name, AclOperation operation)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var state = _state;
        var key = (principal.Name, principal.Kind, resourceType, name, operation);
        if (state.Decisions.TryGetValue(key, out bool allowed)) return allowed;
        allowed = state.Policy.IsAllowed(principal, resourceType, name, operation);
        if (state.Decisions.Count >= MaxCacheEntries) state.Decisions.Clear();
        state.Decisions.TryAdd(key, allowed);
        return allowed;
    }

    /// <summary>Reads the store again if its version moved since the last read. Failures are logged; the last snapshot stays.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long version = await _store.GetVersionAsync(cancellationToken).ConfigureAwait(false);
            if (_loaded && version == _state.Snapshot.Version) return;
            var snapshot = await _store.LoadAsync(cancellationToken).ConfigureAwait(false);
            _state = new State(snapshot, new AccessPolicy(snapshot.Rules, _options.Superusers));
            if (_loadFailing) LogRecovered(_logger, snapshot.Version);
            _loadFailing = false;
            _loaded = true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (!_loadFailing) LogLoadFailed(_logger, e);
            _loadFailing = true;
        }
        finally { _refreshing.Release(); }
    }

    /// <inheritdoc />
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The first read happens before the silo serves calls, so that valid keys work from the start.
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.RefreshInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
                await RefreshAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The silo is stopping.
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _refreshing.Dispose();
        base.Dispose();
    }

    private Principal? Lookup(SecuritySnapshot snapshot, string text)
    {
        if (_bootstrapHash is not null && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(ApiKeys.Hash(text), _bootstrapHash))
            return Principal.Bootstrap;
        if (ApiKeys.TryGetId(text) is not { } id) return null;
        foreach (var key in snapshot.Keys)
        {
            if (key.Id == id) return key.Revoked is null && ApiKeys.Matches(key, text) ? new Principal(key.Principal, AuthenticationKind.ApiKey) : null;
        }
        return null;
    }

    [LoggerMessage(1710, LogLevel.Error, "Could not read API keys and rules from the security store; the last ones read stay in force (none at start: only the bootstrap key and superusers pass)")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception);

    [LoggerMessage(1711, LogLevel.Information, "The security store is readable again (version {Version})")]
    private static partial void LogRecovered(ILogger logger, long version);

    private sealed class State(SecuritySnapshot snapshot, AccessPolicy policy)
    {
        public SecuritySnapshot Snapshot { get; } = snapshot;

        public AccessPolicy Policy { get; } = policy;

        public ConcurrentDictionary<string, Principal> Principals { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<(string, AuthenticationKind, ResourceType, string, AclOperation), bool> Decisions { get; } = new();
    }
}
