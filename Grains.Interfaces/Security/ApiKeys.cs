using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Granary.Grains.Security;

/// <summary>
/// API key text: <c>gk_{id}_{secret}</c>, a 16-hex-digit id (what the key is listed and revoked by) and 32 random
/// bytes in base64url. Only a SHA-256 hash of the whole text is stored: with 256 random bits a slow password hash
/// adds nothing, and a fast one keeps the check cheap.
/// </summary>
public static class ApiKeys
{
    /// <summary>What every API key starts with.</summary>
    public const string Prefix = "gk_";

    private const int IdBytes = 8;
    private const int SecretBytes = 32;

    /// <summary>A new key's text and id. The text is shown to its owner once and never again.</summary>
    public static (string Id, string Text) Generate()
    {
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdBytes));
        string secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));
        return (id, $"{Prefix}{id}_{secret}");
    }

    /// <summary>The id of a well-formed key text, or null.</summary>
    public static string? TryGetId(string? text)
    {
        if (text is null || !text.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        int idEnd = Prefix.Length + IdBytes * 2;
        if (text.Length <= idEnd + 1 || text[idEnd] != '_') return null;
        var id = text.AsSpan(Prefix.Length, IdBytes * 2);
        foreach (char c in id)
        {
            if (!char.IsAsciiHexDigitLower(c)) return null;
        }
        return id.ToString();
    }

    /// <summary>The stored hash of a key text.</summary>
    public static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));

    /// <summary>True when <paramref name="text"/> is the key stored as <paramref name="record"/> (constant-time comparison).</summary>
    public static bool Matches(ApiKeyRecord record, string text) => CryptographicOperations.FixedTimeEquals(Hash(text), record.SecretHash);
}
