using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Granary.Grains.Security;

/// <summary>
/// Session tokens of certificate sign-ins: <c>gs_{payload}.{mac}</c>, where the payload (base64url) is the expiry in
/// Unix seconds and the principal's name, and the mac (base64url) is their HMAC-SHA256 under a key derived from the
/// cluster's <see cref="InternalCallSecret"/>, so that every silo accepts a token any silo issued and no client can make
/// one. Checks are cached by token text; an expired token fails even from the cache.
/// </summary>
public sealed class SessionTokens
{
    /// <summary>What every session token starts with.</summary>
    public const string Prefix = "gs_";

    // Bounds the cache against a client cycling through garbage tokens.
    private const int MaxCacheEntries = 10_000;

    private readonly byte[] _key;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Checked> _checked = new(StringComparer.Ordinal);

    /// <summary>Tokens under a key derived from <paramref name="secret"/>.</summary>
    public SessionTokens(InternalCallSecret secret, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(secret);
        _key = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret.Value), "granary-session-token/v1"u8);
        _time = time;
    }

    /// <summary>A token for <paramref name="principal"/> that works until <paramref name="expires"/>.</summary>
    public string Issue(string principal, DateTimeOffset expires)
    {
        if (!PrincipalNames.IsValid(principal)) throw new ArgumentException($"'{principal}' is not a valid principal name.", nameof(principal));
        byte[] payload = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{expires.ToUnixTimeSeconds()}\n{principal}"));
        return $"{Prefix}{Base64Url.EncodeToString(payload)}.{Base64Url.EncodeToString(HMACSHA256.HashData(_key, payload))}";
    }

    /// <summary>The principal a valid, unexpired token names, or null.</summary>
    public Principal? Validate(string? text)
    {
        if (text is null || !text.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        if (!_checked.TryGetValue(text, out var result))
        {
            result = Check(text);
            if (_checked.Count >= MaxCacheEntries) _checked.Clear();
            _checked.TryAdd(text, result);
        }
        return result.Principal is not null && _time.GetUtcNow() < result.Expires ? result.Principal : null;
    }

    private Checked Check(string text)
    {
        int dot = text.IndexOf('.', Prefix.Length);
        if (dot < 0) return Checked.Invalid;
        byte[] payload, mac;
        try
        {
            payload = Base64Url.DecodeFromChars(text.AsSpan(Prefix.Length, dot - Prefix.Length));
            mac = Base64Url.DecodeFromChars(text.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return Checked.Invalid;
        }
        if (!CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(_key, payload), mac)) return Checked.Invalid;
        string content = Encoding.UTF8.GetString(payload);
        int newline = content.IndexOf('\n', StringComparison.Ordinal);
        if (newline <= 0 || !long.TryParse(content.AsSpan(0, newline), NumberStyles.None, CultureInfo.InvariantCulture, out long expires)) return Checked.Invalid;
        string name = content[(newline + 1)..];
        return PrincipalNames.IsValid(name)
            ? new Checked(new Principal(name, AuthenticationKind.Certificate), DateTimeOffset.FromUnixTimeSeconds(Math.Min(expires, DateTimeOffset.MaxValue.ToUnixTimeSeconds())))
            : Checked.Invalid;
    }

    private sealed record Checked(Principal? Principal, DateTimeOffset Expires)
    {
        public static Checked Invalid { get; } = new(null, DateTimeOffset.MinValue);
    }
}
