using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using NpgsqlTypes;

namespace Granary.Grains.Security.Stores;

/// <summary>
/// Cluster mode's <see cref="ISecurityStore"/>: keys, rules and the audit log in PostgreSQL, beside Orleans' tables, so
/// that every silo sees the same ones. Each change bumps one version row in the same transaction; silos poll that row.
/// </summary>
public sealed class PostgresSecurityStore(string connectionString) : ISecurityStore, IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    // Any fixed number: silos that start together create the tables once.
    private const long SchemaLockKey = 0x6772616e617273;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS granary_security_version (id integer PRIMARY KEY, version bigint NOT NULL);
        INSERT INTO granary_security_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
        CREATE TABLE IF NOT EXISTS granary_api_keys (
            id text PRIMARY KEY, principal text NOT NULL, secret_hash bytea NOT NULL, created timestamptz NOT NULL,
            created_by text NOT NULL, description text NULL, revoked timestamptz NULL);
        CREATE TABLE IF NOT EXISTS granary_acl_rules (id uuid PRIMARY KEY, rule jsonb NOT NULL);
        CREATE TABLE IF NOT EXISTS granary_security_audit (
            seq bigserial PRIMARY KEY, time timestamptz NOT NULL, principal text NOT NULL, action text NOT NULL,
            target text NOT NULL, detail text NULL, silo text NOT NULL);
        CREATE INDEX IF NOT EXISTS granary_security_audit_time ON granary_security_audit (time);
        """;

    private readonly SemaphoreSlim _schema = new(1, 1);
    private volatile bool _schemaReady;

    /// <summary>Creates the store's tables when missing (idempotent; the store calls it before its first use).</summary>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({SchemaLockKey})", connection, transaction))
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await using (var create = new NpgsqlCommand(Schema, connection, transaction))
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<SecuritySnapshot> LoadAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // One snapshot of all three tables, so the version matches the rows read.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        long version = await ReadVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        var keys = new List<ApiKeyRecord>();
        await using (var command = new NpgsqlCommand("SELECT id, principal, secret_hash, created, created_by, description, revoked FROM granary_api_keys", connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                keys.Add(new ApiKeyRecord(reader.GetString(0), reader.GetString(1), (byte[])reader[2],
                    reader.GetFieldValue<DateTimeOffset>(3), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                    reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6)));
            }
        }
        var rules = new List<AclRule>();
        await using (var command = new NpgsqlCommand("SELECT rule FROM granary_acl_rules", connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                rules.Add(JsonSerializer.Deserialize<AclRule>(reader.GetString(0), Json) ?? throw new InvalidDataException("A stored rule is null."));
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new SecuritySnapshot(keys, rules, version);
    }

    /// <inheritdoc />
    public async Task<long> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadVersionAsync(connection, null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task AddKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ChangeAsync(
            "INSERT INTO granary_api_keys (id, principal, secret_hash, created, created_by, description, revoked) VALUES ($1, $2, $3, $4, $5, $6, NULL)",
            [key.Id, key.Principal, key.SecretHash, key.Created, key.CreatedBy, (object?)key.Description ?? DBNull.Value], cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        ChangeAsync("UPDATE granary_api_keys SET revoked = $2 WHERE id = $1 AND revoked IS NULL", [id, at], cancellationToken);

    /// <inheritdoc />
    public Task AddRuleAsync(AclRule rule, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return ChangeAsync("INSERT INTO granary_acl_rules (id, rule) VALUES ($1, $2)",
            [rule.Id, new NpgsqlParameter { Value = JsonSerializer.Serialize(rule, Json), NpgsqlDbType = NpgsqlDbType.Jsonb }], cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> RemoveRuleAsync(Guid id, CancellationToken cancellationToken = default) =>
        ChangeAsync("DELETE FROM granary_acl_rules WHERE id = $1", [id], cancellationToken);

    /// <inheritdoc />
    public async Task AppendAuditAsync(AuditEvent audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audit);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "INSERT INTO granary_security_audit (time, principal, action, target, detail, silo) VALUES ($1, $2, $3, $4, $5, $6)", connection);
        foreach (var value in new object[] { audit.Time, audit.Principal, audit.Action, audit.Target, (object?)audit.Detail ?? DBNull.Value, audit.Silo })
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditEvent>> ReadAuditAsync(DateTimeOffset? since, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT time, principal, action, target, detail, silo FROM granary_security_audit WHERE ($1::timestamptz IS NULL OR time >= $1) ORDER BY seq DESC LIMIT $2", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = since is { } from ? from : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var events = new List<AuditEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            events.Add(new AuditEvent(reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5)));
        }
        return events;
    }

    private async Task<bool> ChangeAsync(string sql, object[] values, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        int changed;
        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        {
            foreach (var value in values) command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value });
            changed = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        if (changed == 0) return false;
        await using (var bump = new NpgsqlCommand("UPDATE granary_security_version SET version = version + 1 WHERE id = 1", connection, transaction))
            await bump.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static async Task<long> ReadVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT version FROM granary_security_version WHERE id = 1", connection, transaction);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long version ? version : 0;
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_schemaReady)
        {
            await _schema.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!_schemaReady)
                {
                    await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
                    _schemaReady = true;
                }
            }
            finally { _schema.Release(); }
        }
        return await ConnectAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<NpgsqlConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _schema.Dispose();
}
