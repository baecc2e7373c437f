using Granary.Storage;

namespace Granary.Grains.Cursors;

/// <summary>
/// Cursor state logs as files of <paramref name="directory"/> (embedded mode: <c>{DataDirectory}/state/cursors</c>),
/// one per cursor, named by a hash of its key. The blocking writes and fsyncs run on the thread pool, not on the
/// grain's turn.
/// </summary>
internal sealed class FileCursorStateStore(string directory) : ICursorStateStore
{
    /// <summary>The folder under the state directory.</summary>
    public const string FolderName = "cursors";

    public Task<ICursorStateLog> OpenAsync(string cursorKey) =>
        Task.Run<ICursorStateLog>(() => new FileLog(CursorStateLog.Open(CursorStateLog.PathFor(directory, cursorKey), cursorKey)));

    /// <summary>
    /// The cursors with a state log here (for waking them after the reminder table was lost); logs whose snapshot cannot
    /// be read name no cursor and are counted in <paramref name="unreadable"/>.
    /// </summary>
    public IReadOnlyCollection<string> ListStoredCursors(out int unreadable)
    {
        unreadable = 0;
        var found = new HashSet<string>(StringComparer.Ordinal);
        if (!Directory.Exists(directory)) return found;
        foreach (string file in Directory.EnumerateFiles(directory, "*" + CursorStateLog.Extension))
        {
            if (CursorStateLog.TryReadCursorKey(file) is { } key) found.Add(key);
            else unreadable++;
        }
        return found;
    }

    private sealed class FileLog(CursorStateLog log) : ICursorStateLog
    {
        public CursorStateLoad Loaded => log.Loaded;

        public string Location => log.Path;

        public Task SaveAsync(CursorStateDelta? delta, Func<CursorStateSnapshot> snapshot)
        {
            var write = log.Prepare(delta, snapshot);
            return Task.Run(() => log.Write(write));
        }

        public Task DeleteAsync() => Task.Run(log.Delete);

        public void Dispose() => log.Dispose();
    }
}
