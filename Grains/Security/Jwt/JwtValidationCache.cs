using System.Collections.Concurrent;

namespace Granary.Grains.Security.Jwt;

/// <summary>
/// Tokens found valid, by their text, until they expire: a client sends the same token on every call, and checking
/// its signature each time would cost far more than the call. Bounded, so a flood of distinct tokens cannot grow it.
/// </summary>
internal sealed class JwtValidationCache(int capacity)
{
    private readonly ConcurrentDictionary<string, JwtAuthentication> _entries = new(StringComparer.Ordinal);

    /// <summary>Entries held now (expired ones included until they are next looked at or swept).</summary>
    public int Count => _entries.Count;

    /// <summary>The cached outcome of <paramref name="token"/> while it has not expired at <paramref name="now"/>.</summary>
    public bool TryGet(string token, DateTimeOffset now, out JwtAuthentication authentication)
    {
        if (_entries.TryGetValue(token, out var cached))
        {
            if (cached.ExpiresAt > now)
            {
                authentication = cached;
                return true;
            }
            _entries.TryRemove(token, out _);
        }
        authentication = null!;
        return false;
    }

    /// <summary>Remembers a valid token until its expiry.</summary>
    public void Add(string token, JwtAuthentication authentication, DateTimeOffset now)
    {
        if (authentication.ExpiresAt is not { } expiresAt || expiresAt <= now) return;
        if (_entries.Count >= capacity)
        {
            foreach (var entry in _entries)
            {
                if (entry.Value.ExpiresAt <= now) _entries.TryRemove(entry.Key, out _);
            }
            // Still full of live tokens: start over rather than grow; each is checked once more when it comes back.
            if (_entries.Count >= capacity) _entries.Clear();
        }
        _entries[token] = authentication;
    }
}
