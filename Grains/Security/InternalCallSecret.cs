using System.Security.Cryptography;
using System.Text;
using Granary.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace Granary.Grains.Security;

/// <summary>
/// A value every silo of the cluster knows and no client does. Silos stamp it on the calls they make
/// (<see cref="InternalCallStamp"/>) so that <see cref="InternalCallGate"/> can tell their calls from a client's: the
/// sending-grain id of a message cannot serve, because a gateway does not check what a client writes there.
/// </summary>
public sealed partial class InternalCallSecret
{
    /// <summary>Configuration key of an explicit secret (at least 32 characters), the same on every silo.</summary>
    public const string ConfigurationKey = "Granary:Security:ClusterSecret";

    /// <summary>File under the data directory holding the generated secret of embedded mode.</summary>
    public const string FileName = "internal-call.secret";

    private const int MinConfiguredLength = 32;

    private readonly byte[] _value;

    /// <summary>Wraps a secret.</summary>
    public InternalCallSecret(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        Value = value;
        _value = Encoding.UTF8.GetBytes(value);
    }

    /// <summary>The secret, as carried in the request context between silos.</summary>
    public string Value { get; }

    /// <summary>True when <paramref name="candidate"/> is the secret (compared in constant time).</summary>
    public bool Matches(object? candidate) =>
        candidate is string text && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(text), _value);

    /// <summary>
    /// The silo's secret: <see cref="ConfigurationKey"/> when set; in cluster mode otherwise one derived from the
    /// PostgreSQL user, password and database and the service id (all silos share them, clients know none); in embedded mode
    /// otherwise a random one generated once into <see cref="FileName"/> under the data directory (owner-only).
    /// </summary>
    public static InternalCallSecret Create(IServiceProvider services)
    {
        var configured = services.GetService<IConfiguration>()?[ConfigurationKey];
        if (!string.IsNullOrEmpty(configured))
        {
            if (configured.Length < MinConfiguredLength)
                throw new GranaryException(GranaryErrorCode.InvalidArgument, $"{ConfigurationKey} must be at least {MinConfiguredLength} characters.");
            return new InternalCallSecret(configured);
        }
        if (services.GetService<ClusterSecretSeed>() is { } seed)
        {
            // Only the parts every silo's connection string shares (hosts and tuning may differ per silo); the
            // password is what makes it secret, so without one the derived value is guessable: say so.
            var database = new NpgsqlConnectionStringBuilder(seed.ConnectionString);
            if (string.IsNullOrEmpty(database.Password))
                LogGuessable(services.GetRequiredService<ILoggerFactory>().CreateLogger<InternalCallSecret>(), ConfigurationKey);
            var serviceId = services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;
            var derived = HMACSHA256.HashData(Encoding.UTF8.GetBytes($"{database.Username}\n{database.Password}\n{database.Database}"),
                Encoding.UTF8.GetBytes("granary-internal-call/" + serviceId));
            return new InternalCallSecret(Convert.ToBase64String(derived));
        }
        var directory = Path.GetFullPath(services.GetRequiredService<IOptions<GranaryOptions>>().Value.DataDirectory);
        return new InternalCallSecret(ReadOrCreateFile(Path.Combine(directory, FileName)));
    }

    [LoggerMessage(1702, LogLevel.Warning, "The PostgreSQL connection string has no password and {Key} is not set: the secret that closes internal grains to clients is derived from guessable values; set it to the same value on every silo")]
    private static partial void LogGuessable(ILogger logger, string key);

    private static string ReadOrCreateFile(string path)
    {
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written whole to a private temporary file, then moved into place without overwriting: silos sharing a data
        // directory that start together all end up reading the one file that won.
        string temp = $"{path}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        try
        {
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
        }
        return File.ReadAllText(path).Trim();
    }
}

/// <summary>Registered in cluster mode: what the cluster's internal-call secret is derived from when none is configured.</summary>
public sealed record ClusterSecretSeed(string ConnectionString);
