namespace Granary.Client;

/// <summary>
/// An <see cref="IIdempotencyStore"/> in process memory, bounded by <see cref="InMemoryIdempotencyStoreOptions.Capacity"/>
/// and expiring ids after <see cref="InMemoryIdempotencyStoreOptions.Retention"/>. It protects one process only and
/// forgets everything on restart: across processes or restarts use a database-backed store. Thread-safe.
/// </summary>
public sealed class InMemoryIdempotencyStore : IIdempotencyStore
{
    private readonly InMemoryIdempotencyStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    // Ids by last write, oldest first: the head is what capacity evicts. Expiry is checked on lookup; writes also
    // drop expired entries from the head, so an expired entry behind a longer-lived one waits for its turn there.
    private readonly LinkedList<Entry> _byAge = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);

    /// <summary>Creates a store.</summary>
    /// <param name="options">Capacity, retention and claim timeout; null for the defaults.</param>
    /// <param name="timeProvider">The clock for expiry; null for <see cref="TimeProvider.System"/>.</param>
    public InMemoryIdempotencyStore(InMemoryIdempotencyStoreOptions? options = null, TimeProvider? timeProvider = null)
    {
        options ??= new InMemoryIdempotencyStoreOptions();
        options.Validate();
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Ids held now, expired ones not yet evicted included.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _entries.Count;
        }
    }

    /// <inheritdoc/>
    public ValueTask<IdempotencyStatus> TryBeginAsync(string messageKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageKey);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (_entries.TryGetValue(messageKey, out var node) && node.Value.ExpiresAt > now)
                return ValueTask.FromResult(node.Value.Completed ? IdempotencyStatus.Completed : IdempotencyStatus.InProgress);
            Write(messageKey, completed: false, now + _options.ClaimTimeout, now);
            return ValueTask.FromResult(IdempotencyStatus.Started);
        }
    }

    /// <inheritdoc/>
    public ValueTask CompleteAsync(string messageKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageKey);
        var now = _time.GetUtcNow();
        lock (_lock) Write(messageKey, completed: true, now + _options.Retention, now);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask AbandonAsync(string messageKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageKey);
        lock (_lock)
        {
            if (_entries.TryGetValue(messageKey, out var node) && !node.Value.Completed)
            {
                _entries.Remove(messageKey);
                _byAge.Remove(node);
            }
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Sets an entry and moves it to the young end; drops expired entries and, beyond capacity, the oldest ones from
    /// the old end. Lock held.
    /// </summary>
    private void Write(string messageKey, bool completed, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        if (_entries.TryGetValue(messageKey, out var node)) _byAge.Remove(node);
        node = _byAge.AddLast(new Entry(messageKey, completed, expiresAt));
        _entries[messageKey] = node;
        while (_entries.Count > _options.Capacity || _byAge.First!.Value.ExpiresAt <= now)
        {
            var oldest = _byAge.First!;
            _byAge.RemoveFirst();
            _entries.Remove(oldest.Value.Key);
        }
    }

    private readonly record struct Entry(string Key, bool Completed, DateTimeOffset ExpiresAt);
}
