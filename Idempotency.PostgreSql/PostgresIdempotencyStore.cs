using System.Text.RegularExpressions;
using Npgsql;

namespace Granary.Client;

/// <summary>
/// An <see cref="IIdempotencyStore"/> in a PostgreSQL table with the message key as its primary key, so every
/// consumer process of a group (and every restart) shares it: a claim is an insert that the unique key lets only one
/// handler win. Create the table once with <see cref="EnsureTableAsync"/>; delete expired rows from time to time with
/// <see cref="PurgeExpiredAsync"/> (expired rows are ignored either way). Thread-safe.
/// </summary>
public sealed class PostgresIdempotencyStore : IIdempotencyStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly PostgresIdempotencyStoreOptions _options;
    private readonly string _begin, _read, _complete, _abandon, _purge;

    /// <summary>Creates a store on <paramref name="connectionString"/>.</summary>
    public PostgresIdempotencyStore(string connectionString, PostgresIdempotencyStoreOptions? options = null)
        : this(NpgsqlDataSource.Create(connectionString), options, ownsDataSource: true)
    {
    }

    /// <summary>Creates a store on a data source the application owns (and disposes).</summary>
    public PostgresIdempotencyStore(NpgsqlDataSource dataSource, PostgresIdempotencyStoreOptions? options = null)
        : this(dataSource, options, ownsDataSource: false)
    {
    }

    private PostgresIdempotencyStore(NpgsqlDataSource dataSource, PostgresIdempotencyStoreOptions? options, bool ownsDataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new PostgresIdempotencyStoreOptions();
        options.Validate();
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _options = options;
        string t = options.TableName;
        // A row past its expiry counts as absent: an expired claim (its handler died) or a completed id past retention.
        _begin = $"INSERT INTO {t} (message_key, completed, expires_at) VALUES (@key, false, now() + @claim) "
            + $"ON CONFLICT (message_key) DO UPDATE SET completed = false, expires_at = EXCLUDED.expires_at WHERE {t}.expires_at < now() RETURNING 1";
        _read = $"SELECT completed FROM {t} WHERE message_key = @key AND expires_at >= now()";
        _complete = $"INSERT INTO {t} (message_key, completed, expires_at) VALUES (@key, true, now() + @retention) "
            + "ON CONFLICT (message_key) DO UPDATE SET completed = true, expires_at = EXCLUDED.expires_at";
        _abandon = $"DELETE FROM {t} WHERE message_key = @key AND NOT completed";
        _purge = $"DELETE FROM {t} WHERE expires_at < now()";
    }

    /// <summary>Creates the table (and its primary key) when it does not exist.</summary>
    public async Task EnsureTableAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(
            $"CREATE TABLE IF NOT EXISTS {_options.TableName} (message_key text PRIMARY KEY, completed boolean NOT NULL, expires_at timestamptz NOT NULL)");
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes expired claims and completed ids past retention; returns how many.</summary>
    public async Task<int> PurgeExpiredAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(_purge);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<IdempotencyStatus> TryBeginAsync(string messageKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageKey);
        while (true)
        {
            await using (var begin = _dataSource.CreateCommand(_begin))
            {
                begin.Parameters.AddWithValue("key", messageKey);
                begin.Parameters.AddWithValue("claim", _options.ClaimTimeout);
                if (await begin.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null) return IdempotencyStatus.Started;
            }
            await using var read = _dataSource.CreateCommand(_read);
            read.Parameters.AddWithValue("key", messageKey);
            // No row: it was abandoned or expired between the two statements; claim again.
            if (await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is bool completed)
                return completed ? IdempotencyStatus.Completed : IdempotencyStatus.InProgress;
        }
    }

    /// <inheritdoc/>
    public async ValueTask CompleteAsync(string messageKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageKey);
        await using var command = _dataSource.CreateCommand(_complete);
        command.Parameters.AddWithValue("key", messageKey);
        command.Parameters.AddWithValue("retention", _options.Retention);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask AbandonAsync(string messageKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageKey);
        await using var command = _dataSource.CreateCommand(_abandon);
        command.Parameters.AddWithValue("key", messageKey);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Disposes the data source when this store created it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource) await _dataSource.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>Settings of a <see cref="PostgresIdempotencyStore"/>.</summary>
public sealed partial class PostgresIdempotencyStoreOptions
{
    /// <summary>The table, optionally schema-qualified (<c>[a-zA-Z_][a-zA-Z0-9_]*</c> parts). Use one per consumer group. Default <c>granary_idempotency</c>.</summary>
    public string TableName { get; set; } = "granary_idempotency";

    /// <summary>How long a completed id is remembered. Default 1 day.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long a claim holds before another delivery may take it over; longer than the slowest handler. Default 5 min.</summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(5);

    internal void Validate()
    {
        if (!TableNamePattern().IsMatch(TableName ?? ""))
            throw new ArgumentException($"'{TableName}' is not a table name of the form [schema.]name with letters, digits and underscores.", nameof(TableName));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Retention, TimeSpan.Zero, nameof(Retention));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ClaimTimeout, TimeSpan.Zero, nameof(ClaimTimeout));
    }

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]{0,62}(\\.[a-zA-Z_][a-zA-Z0-9_]{0,62})?$")]
    private static partial Regex TableNamePattern();
}
