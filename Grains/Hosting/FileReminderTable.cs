using System.Text.Json;
using Granary.Grains.Hosting.StateFiles;

namespace Granary.Grains.Hosting;

/// <summary>
/// A durable reminder table in one file, for embedded (single-silo) mode: every change rewrites the file atomically and
/// fsyncs it, so reminders survive a silo killed with SIGKILL. The rows are JSON inside a checksummed frame
/// (<see cref="StateFileFormat"/>), with the replaced copy kept as <c>.prev</c>; a file of the earlier bare-JSON format is
/// still read. A damaged table falls back to that copy, else starts empty (logged, counted and shown by the admin API):
/// the silo always starts, and <see cref="StateFiles.ReminderRecovery"/> wakes the cursors so that they register theirs again.
/// </summary>
internal sealed class FileReminderTable(string path, StateDamageLog damage) : IReminderTable, IDisposable
{
    private const string Kind = "reminders";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<(GrainId, string), ReminderEntry> _rows = [];
    // False while the file on disk is damaged: the next save must not keep it as the previous copy.
    private bool _fileIsGood = true;

    /// <summary>True when the table was read damaged at start (rebuilt empty, or from its previous copy): reminders may be lost.</summary>
    public bool WasDamaged { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var read = await StateFile.ReadAsync(path, (body, _) => Parse(body)).ConfigureAwait(false);
        _fileIsGood = read.Source is StateFileSource.Current or StateFileSource.None;
        WasDamaged = read.Problem is not null;
        switch (read.Source)
        {
            case StateFileSource.Damaged:
                damage.Report(Kind, path, read.Problem!, StateDamageAction.Rebuilt,
                    "the reminder table starts empty; cursors register their reminders again when next called");
                return;
            case StateFileSource.Previous when read.Problem is not null:
                damage.Report(Kind, path, read.Problem, StateDamageAction.RestoredPrevious,
                    $"{read.Value!.Count} reminders from the previous copy; reminders registered after it was written are lost until their cursors register them again");
                break;
        }
        _rows = read.Value ?? [];
    }

    private static Dictionary<(GrainId, string), ReminderEntry> Parse(ReadOnlyMemory<byte> body)
    {
        // A bare JSON list both in the frame and in the earlier format.
        var rows = JsonSerializer.Deserialize<List<Row>>(body.Span) ?? throw new JsonException("the table is null");
        var entries = new Dictionary<(GrainId, string), ReminderEntry>();
        foreach (var r in rows)
        {
            if (r is null || r.Name is null || !GrainId.TryParse(r.GrainId, out var grainId)) throw new JsonException("a row has no grain or name");
            entries[(grainId, r.Name)] = new ReminderEntry { GrainId = grainId, ReminderName = r.Name, StartAt = r.StartAt, Period = r.Period, ETag = r.ETag };
        }
        return entries;
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
                await StateFile.WriteAsync(path, JsonSerializer.SerializeToUtf8Bytes(rows), _fileIsGood).ConfigureAwait(false);
                _fileIsGood = true;
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
