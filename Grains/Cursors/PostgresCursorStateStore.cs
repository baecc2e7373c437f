using Granary.Storage;
using Npgsql;

namespace Granary.Grains.Cursors;

/// <summary>
/// Cluster mode: cursor state logs as rows of <c>granary_cursor_frames</c> (cursor key, sequence, frame), the same
/// frames as the embedded files (<see cref="CursorStateLog"/>). A save appends a delta with one INSERT; a snapshot
/// (reset, damage, or once the rows pass the same threshold as a file) replaces the cursor's rows in one transaction.
/// The table is created by <see cref="Hosting.PostgresSchema.EnsureCreatedAsync"/>.
/// </summary>
internal sealed class PostgresCursorStateStore(string connectionString) : ICursorStateStore, IDisposable
{
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);

    public async Task<ICursorStateLog> OpenAsync(string cursorKey)
    {
        await using var command = _source.CreateCommand("SELECT seq, frame FROM granary_cursor_frames WHERE cursor_key = $1 ORDER BY seq");
        command.Parameters.AddWithValue(cursorKey);
        var frames = new MemoryStream();
        long lastSeq = -1;
        await using (var reader = await command.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                lastSeq = reader.GetInt64(0);
                frames.Write((byte[])reader.GetValue(1));
            }
        }
        var loaded = lastSeq < 0 ? new CursorStateLoad() : CursorStateLog.Replay(frames.ToArray(), cursorKey);
        return new RowLog(_source, cursorKey, loaded, lastSeq + 1, frames.Length);
    }

    public void Dispose() => _source.Dispose();

    private sealed class RowLog(NpgsqlDataSource source, string cursorKey, CursorStateLoad loaded, long nextSeq, long length) : ICursorStateLog
    {
        private long _nextSeq = nextSeq, _length = length, _snapshotBytes = loaded.SnapshotBytes;
        // No usable snapshot, a damaged row (the rows after it are not replayed: the next save replaces them all), a failed write.
        // (A bad last row is no torn write here: rows are written whole. It is replaced all the same.)
        private bool _needsSnapshot = loaded.Snapshot is null || loaded.DamagedFrame is not null || loaded.TornTailBytes > 0;

        public CursorStateLoad Loaded { get; private set; } = loaded;

        public string Location => $"granary_cursor_frames '{cursorKey}'";

        public async Task SaveAsync(CursorStateDelta? delta, Func<CursorStateSnapshot> snapshot)
        {
            bool compact = delta is null || _needsSnapshot || _length > CursorStateLog.CompactionThreshold(_snapshotBytes);
            byte[] frame = compact ? CursorStateCodec.EncodeSnapshot(cursorKey, snapshot()) : CursorStateCodec.EncodeDelta(delta!);
            try
            {
                if (compact) await ReplaceAsync(frame).ConfigureAwait(false);
                else await AppendAsync(frame).ConfigureAwait(false);
            }
            catch
            {
                _needsSnapshot = true;
                throw;
            }
        }

        public async Task DeleteAsync()
        {
            await using var command = source.CreateCommand("DELETE FROM granary_cursor_frames WHERE cursor_key = $1");
            command.Parameters.AddWithValue(cursorKey);
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
            Loaded = new CursorStateLoad();
            (_needsSnapshot, _length, _nextSeq) = (true, 0, 0);
        }

        public void Dispose() { }

        private async Task AppendAsync(byte[] frame)
        {
            await using var command = source.CreateCommand("INSERT INTO granary_cursor_frames (cursor_key, seq, frame) VALUES ($1, $2, $3)");
            command.Parameters.AddWithValue(cursorKey);
            command.Parameters.AddWithValue(_nextSeq);
            command.Parameters.AddWithValue(frame);
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
            _nextSeq++;
            _length += frame.Length;
        }

        private async Task ReplaceAsync(byte[] frame)
        {
            await using var connection = await source.OpenConnectionAsync().ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
            await using (var delete = new NpgsqlCommand("DELETE FROM granary_cursor_frames WHERE cursor_key = $1", connection, transaction))
            {
                delete.Parameters.AddWithValue(cursorKey);
                await delete.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
            await using (var insert = new NpgsqlCommand("INSERT INTO granary_cursor_frames (cursor_key, seq, frame) VALUES ($1, 0, $2)", connection, transaction))
            {
                insert.Parameters.AddWithValue(cursorKey);
                insert.Parameters.AddWithValue(frame);
                await insert.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
            await transaction.CommitAsync().ConfigureAwait(false);
            (_nextSeq, _length, _snapshotBytes, _needsSnapshot) = (1, frame.Length, frame.Length, false);
        }
    }
}
