using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Granary.Grains.Security.Jwt;

/// <summary>
/// An issuer's public signing keys read from a JSON Web Key Set file (<see cref="JwtOptions.SigningKeysPath"/>), re-read
/// when the file's write time or length changes so that keys can be rotated without a restart.
/// </summary>
internal sealed partial class JwtSigningKeysFile(string path, ILogger logger)
{
    private readonly Lock _reloadLock = new();
    private volatile Loaded? _loaded;

    /// <summary>The keys of the file as last read successfully; empty when it never was.</summary>
    public IReadOnlyList<SecurityKey> Current()
    {
        var stamp = Stamp();
        var loaded = _loaded;
        if (loaded is not null && loaded.Stamp == stamp) return loaded.Keys;
        lock (_reloadLock)
        {
            loaded = _loaded;
            if (loaded is not null && loaded.Stamp == stamp) return loaded.Keys;
            // A failed read keeps the keys we had (a half-written file must not lock everyone out) and is remembered by
            // its stamp, so it is logged once per change of the file, not once per token.
            _loaded = new Loaded(stamp, Read() ?? loaded?.Keys ?? []);
            return _loaded.Keys;
        }
    }

    private (DateTime WriteTime, long Length) Stamp()
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
    }

    private List<SecurityKey>? Read()
    {
        try
        {
            var keys = new JsonWebKeySet(File.ReadAllText(path)).GetSigningKeys().ToList();
            if (keys.Count == 0)
            {
                LogNoKeys(logger, path);
                return null;
            }
            LogLoaded(logger, path, keys.Count);
            return keys;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or System.Text.Json.JsonException)
        {
            LogUnreadable(logger, path, e.Message);
            return null;
        }
    }

    private sealed record Loaded((DateTime WriteTime, long Length) Stamp, IReadOnlyList<SecurityKey> Keys);

    [LoggerMessage(1750, LogLevel.Information, "Loaded {Count} JWT signing keys from {Path}")]
    private static partial void LogLoaded(ILogger logger, string path, int count);

    [LoggerMessage(1751, LogLevel.Error, "The JWT signing key file {Path} holds no usable signing key; keeping the keys read before (if any)")]
    private static partial void LogNoKeys(ILogger logger, string path);

    [LoggerMessage(1752, LogLevel.Error, "Cannot read the JWT signing key file {Path}: {Reason}; keeping the keys read before (if any)")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);
}
