using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Granary.Tests.Security;

/// <summary>An OpenID Connect issuer in miniature: RSA signing keys, their JSON Web Key Set, and tokens it mints.</summary>
internal sealed class TestJwtIssuer : IDisposable
{
    public const string Name = "https://issuer.test/realms/granary";
    public const string Audience = "granary";

    // An RSA-2048 key takes about half a second to generate on a loaded machine, and nearly every JWT test builds an
    // issuer: keys go back to this pool when their issuer is disposed. A key belongs to one live issuer at a time, so a
    // second issuer in a test (a stranger) still signs with a key of its own, and a removed key is not handed out again
    // while its issuer lives (a token signed with it must stay unverifiable).
    private static readonly ConcurrentBag<RSA> s_freeKeys = [];

    private readonly List<(string KeyId, RSA Key)> _keys = [];
    private readonly List<RSA> _removed = [];
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public TestJwtIssuer() => AddKey();

    /// <summary>Key id of the newest key; tokens are signed with it unless told otherwise.</summary>
    public string CurrentKeyId => _keys[^1].KeyId;

    /// <summary>Creates a fresh signing key and makes it the current one.</summary>
    public string AddKey()
    {
        string keyId = $"key-{_keys.Count + 1}-{Guid.NewGuid():N}";
        _keys.Add((keyId, s_freeKeys.TryTake(out var key) ? key : RSA.Create(2048)));
        return keyId;
    }

    /// <summary>Forgets a key: it leaves the key set (tokens signed with it no longer verify once the set is re-read).</summary>
    public void RemoveKey(string keyId)
    {
        var removed = _keys.Single(k => k.KeyId == keyId);
        _keys.Remove(removed);
        _removed.Add(removed.Key);
    }

    /// <summary>PEM text of the current public key: what a confused verifier would use as an HMAC secret.</summary>
    public string PublicKeyPem => _keys[^1].Key.ExportSubjectPublicKeyInfoPem();

    /// <summary>The public keys as a JSON Web Key Set document.</summary>
    public string JwksJson() => JsonSerializer.Serialize(new
    {
        keys = _keys.Select(k =>
        {
            var p = k.Key.ExportParameters(includePrivateParameters: false);
            return new { kty = "RSA", use = "sig", alg = "RS256", kid = k.KeyId, n = Base64UrlEncoder.Encode(p.Modulus), e = Base64UrlEncoder.Encode(p.Exponent) };
        }),
    });

    /// <summary>Credentials of a key of this issuer (the current one by default).</summary>
    public SigningCredentials Credentials(string? keyId = null, string algorithm = SecurityAlgorithms.RsaSha256)
    {
        var (id, key) = keyId is null ? _keys[^1] : _keys.Single(k => k.KeyId == keyId);
        return new SigningCredentials(new RsaSecurityKey(key) { KeyId = id }, algorithm);
    }

    /// <summary>
    /// A token valid from <paramref name="now"/> for <paramref name="lifetime"/> (1 h by default) with the given claims,
    /// signed by <paramref name="credentials"/> (this issuer's current key by default; null credentials with
    /// <paramref name="unsigned"/> gives an <c>alg: none</c> token).
    /// </summary>
    public string Mint(
        DateTimeOffset now,
        IDictionary<string, object>? claims = null,
        string issuer = Name,
        string audience = Audience,
        TimeSpan? lifetime = null,
        SigningCredentials? credentials = null,
        bool unsigned = false,
        bool withExpiry = true)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims ?? new Dictionary<string, object> { ["sub"] = "alice" },
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = withExpiry ? (now + (lifetime ?? TimeSpan.FromHours(1))).UtcDateTime : null,
            SigningCredentials = unsigned ? null : credentials ?? Credentials(),
        };
        return _handler.CreateToken(descriptor);
    }

    public void Dispose()
    {
        foreach (var (_, key) in _keys) s_freeKeys.Add(key);
        foreach (var key in _removed) s_freeKeys.Add(key);
        _keys.Clear();
        _removed.Clear();
    }
}
