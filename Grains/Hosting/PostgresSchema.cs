using Npgsql;

namespace Granary.Grains.Hosting;

/// <summary>
/// Creates Orleans' tables (membership, grain state, reminders) in an empty PostgreSQL database from the scripts
/// embedded in this assembly (<c>Hosting/Sql/dotnet-orleans</c>, unchanged from Orleans), and Granary's cursor state
/// table (<c>granary_cursor_frames</c>) when it is missing.
/// </summary>
public static class PostgresSchema
{
    private static readonly string[] Scripts = ["PostgreSQL-Main.sql", "PostgreSQL-Clustering.sql", "PostgreSQL-Persistence.sql", "PostgreSQL-Reminders.sql"];

    // Any fixed number: silos that start together wait for each other instead of creating the tables twice.
    private const long AdvisoryLockKey = 0x6772616e617279;

    /// <summary>
    /// Creates the cursor state table when missing, and applies the scripts when the database has no <c>orleansquery</c>
    /// table; returns whether it applied them. Run as the
    /// database owner (PostgreSQL 15 grants no CREATE on <c>public</c> to other roles).
    /// </summary>
    public static async Task<bool> EnsureCreatedAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", connection, transaction))
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        // Granary's own tables: created on a database made by an earlier version too.
        await using (var cursors = new NpgsqlCommand(CursorFramesTable, connection, transaction))
            await cursors.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('orleansquery') IS NOT NULL", connection, transaction))
        {
            if ((bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return false;
            }
        }
        foreach (string script in Scripts)
        {
            await using var command = new NpgsqlCommand(ReadScript(script), connection, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Cursor state logs (<c>Cursors/PostgresCursorStateStore</c>): a snapshot frame at sequence 0, then delta frames.</summary>
    private const string CursorFramesTable = """
        CREATE TABLE IF NOT EXISTS granary_cursor_frames (
            cursor_key text NOT NULL,
            seq bigint NOT NULL,
            frame bytea NOT NULL,
            PRIMARY KEY (cursor_key, seq))
        """;

    private static string ReadScript(string name)
    {
        using var stream = typeof(PostgresSchema).Assembly.GetManifestResourceStream("Granary.Sql." + name)
            ?? throw new InvalidOperationException($"The embedded script {name} is missing from {typeof(PostgresSchema).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
