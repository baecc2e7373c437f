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
