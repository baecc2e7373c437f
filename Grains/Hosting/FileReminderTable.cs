using System.Text.Json;

namespace Granary.Grains.Hosting;

/// <summary>
/// A durable reminder table in one JSON file, for embedded (single-silo) mode: every change rewrites the file
/// atomically and fsyncs it, so reminders survive a silo killed with SIGKILL.
/// </summary>
internal sealed class FileReminderTable(string path) : IReminderTable, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<(GrainId, string), ReminderEntry> _rows = [];

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path)) return;
        var rows = JsonSerializer.Deserialize<List<Row>>(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false)) ?? [];
        _rows = rows.Select(r => new ReminderEntry { GrainId = GrainId.Parse(r.GrainId), ReminderName = r.Name, StartAt = r.StartAt, Period = r.Period, ETag = r.ETag })
            .ToDictionary(e => (e.GrainId, e.ReminderName));
    }

    public Task<ReminderTableData> ReadRows(GrainId grainId) =>
        LockedAsync(() => new ReminderTableData(_rows.Values.Where(e => e.GrainId == grainId).ToList()), save: false);

    public Task<ReminderTableData> ReadRows(uint begin, uint end) => LockedAsync(() => new ReminderTableData(_rows.Values.Where(e =>
    {
        uint hash = e.GrainId.GetUniformHashCode();
        return begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;
    }).ToList()), save: false);

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) =>
        LockedAsync(() => _rows.GetValueOrDefault((grainId, reminderName)), save: false);

    public Task<string?> UpsertRow(ReminderEntry entry) => LockedAsync<string?>(() =>
    {
        entry.ETag = Guid.NewGuid().ToString("N");
        _rows[(entry.GrainId, entry.ReminderName)] = entry;
        return entry.ETag;
    }, save: true);

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => LockedAsync(
        () => _rows.TryGetValue((grainId, reminderName), out var entry) && entry.ETag == eTag && _rows.Remove((grainId, reminderName)),
        save: true);

    public Task TestOnlyClearTable() => LockedAsync(() => { _rows.Clear(); return true; }, save: true);

    private async Task<TResult> LockedAsync<TResult>(Func<TResult> action, bool save)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var result = action();
            if (save)
            {
                var rows = _rows.Values.Select(e => new Row(e.GrainId.ToString(), e.ReminderName, e.StartAt, e.Period, e.ETag)).ToList();
                await DurableFile.WriteAsync(path, JsonSerializer.SerializeToUtf8Bytes(rows)).ConfigureAwait(false);
            }
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private sealed record Row(string GrainId, string Name, DateTime StartAt, TimeSpan Period, string? ETag);
}
