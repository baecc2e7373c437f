using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Granary.Storage;

/// <summary>
/// The saved state of one cursor (a consumer group on a partition) as one small append-only file: a snapshot frame,
/// then delta frames (see <see cref="CursorStateCodec"/>). A save appends a delta with one write and one fsync (no
/// rename), so its cost follows what changed, not how much state there is. Now and then (<see cref="Prepare"/>
/// decides: the file has grown past <see cref="CompactAtBytes"/>, a reset, a failed write, damage) the file is
/// replaced by a single snapshot (temp file, fsync, rename, directory fsync). Not thread-safe: one owner at a time.
/// </summary>
internal sealed class CursorStateLog : IDisposable
{
    /// <summary>The file extension of cursor state logs.</summary>
    public const string Extension = ".cursor";

    /// <summary>Suffix of the copy kept of a file with a damaged frame before it is cut back.</summary>
    public const string DamagedSuffix = ".damaged";

    /// <summary>The file is compacted once it exceeds this many bytes and four times its snapshot.</summary>
    public const long MinCompactBytes = 64 * 1024;

    private readonly string _path;
    private readonly string _cursorKey;
    private SafeFileHandle? _handle;
    private long _length, _snapshotBytes;
    private bool _needsSnapshot;

    private CursorStateLog(string path, string cursorKey, CursorStateLoad loaded)
    {
        _path = path;
        _cursorKey = cursorKey;
        Loaded = loaded;
    }

    /// <summary>What the file held when it was opened.</summary>
    public CursorStateLoad Loaded { get; private set; }

    /// <summary>The file's path.</summary>
    public string Path => _path;

    /// <summary>The file's size now.</summary>
    public long Length => _length;

    /// <summary>The size at which the next save writes a snapshot instead of a delta.</summary>
    public long CompactAtBytes => CompactionThreshold(_snapshotBytes);

    /// <summary>The size past which a log whose snapshot frame is <paramref name="snapshotBytes"/> is compacted.</summary>
    internal static long CompactionThreshold(long snapshotBytes) => Math.Max(MinCompactBytes, 4 * snapshotBytes);

    /// <summary>A readable prefix-free name for any cursor key (topic, group and partition may hold any character): a hash of it.</summary>
    public static string PathFor(string directory, string cursorKey) =>
        System.IO.Path.Combine(directory, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(cursorKey)))[..32] + Extension);

    /// <summary>
    /// Opens (reading and checking every frame) the log at <paramref name="path"/> of the cursor
    /// <paramref name="cursorKey"/>. A last frame cut short or failing its checksum (an append interrupted by a crash,
    /// which was never confirmed) is cut off; a damaged frame with bytes after it is damage: the file is copied aside and
    /// cut back to the frames before it, and the next save writes a snapshot. See <see cref="Loaded"/>.
    /// </summary>
    public static CursorStateLog Open(string path, string cursorKey)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return new CursorStateLog(path, cursorKey, new CursorStateLoad());
        }
        var loaded = Replay(bytes, cursorKey);
        if (loaded.Snapshot is null) return new CursorStateLog(path, cursorKey, loaded) { _needsSnapshot = true }; // replaced by the owner's first save
        if (loaded.DamagedFrame is not null)
        {
            // Kept for the operator: the frames after the damaged one are dropped from the file below.
            string copy = path + DamagedSuffix;
            File.Copy(path, copy, overwrite: true);
            loaded = loaded with { DamagedCopy = copy };
        }
        var log = new CursorStateLog(path, cursorKey, loaded)
        {
            _handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite),
            _length = loaded.ValidBytes,
            _snapshotBytes = loaded.SnapshotBytes,
            // After damage the file is rewritten whole, so nothing later depends on the cut.
            _needsSnapshot = loaded.DamagedFrame is not null,
        };
        if (loaded.ValidBytes < bytes.Length)
        {
            // Appends go after the last good frame, never behind a bad one.
            RandomAccess.SetLength(log._handle, loaded.ValidBytes);
            FileSync.FlushData(log._handle);
        }
        return log;
    }

    /// <summary>
    /// Reads the log at <paramref name="path"/> without changing it (no cut, no copy): for tools and tests that look at a
    /// cursor's saved state while its owner may be appending. Null when there is no file.
    /// </summary>
    public static CursorStateLoad? Read(string path, string cursorKey)
    {
        try
        {
            return Replay(File.ReadAllBytes(path), cursorKey);
        }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
    }

    /// <summary>
    /// The cursor a log file belongs to, from its snapshot frame (checksum verified); null when that cannot be read.
    /// Reads only the first frame.
    /// </summary>
    public static string? TryReadCursorKey(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException) { return null; } // deleted meanwhile
        if (!CursorStateCodec.TryReadHeader(bytes, out int length, out uint crc)) return null;
        var payload = bytes.AsSpan(CursorStateCodec.HeaderBytes, length);
        return CursorStateCodec.ChecksumMatches(payload, crc) && CursorStateCodec.TryReadCursorKey(payload, out string key) ? key : null;
    }

    /// <summary>
    /// The frame the next save writes: a snapshot (from <paramref name="snapshot"/>, called at once, on the caller's
    /// thread) when <paramref name="delta"/> is null (a reset), the file has none or has grown past
    /// <see cref="CompactAtBytes"/>, or after a failed write or damage; else the delta. Then <see cref="Write"/> it.
    /// </summary>
    public CursorStateWrite Prepare(CursorStateDelta? delta, Func<CursorStateSnapshot> snapshot)
    {
        bool compact = delta is null || _handle is null || _needsSnapshot || _length > CompactAtBytes;
        return compact
            ? new CursorStateWrite(CursorStateCodec.EncodeSnapshot(_cursorKey, snapshot()), IsSnapshot: true)
            : new CursorStateWrite(CursorStateCodec.EncodeDelta(delta!), IsSnapshot: false);
    }

    /// <summary>
    /// Writes a prepared frame durably: a delta is appended and fsynced; a snapshot replaces the file atomically. A
    /// failed write leaves the file for the next save to replace with a snapshot (the delta's changes are in no file).
    /// </summary>
    public void Write(CursorStateWrite write)
    {
        try
        {
            if (write.IsSnapshot) Replace(write.Frame);
            else Append(write.Frame);
        }
        catch
        {
            _needsSnapshot = true;
            throw;
        }
    }

    /// <summary>Removes the file (the cursor is deleted, or its state belonged to an earlier topic); the next save writes a snapshot.</summary>
    public void Delete()
    {
        _handle?.Dispose();
        _handle = null;
        _length = 0;
        Loaded = new CursorStateLoad();
        File.Delete(_path);
        File.Delete(_path + DamagedSuffix);
        FileSync.FlushDirectory(System.IO.Path.GetDirectoryName(_path)!);
    }

    public void Dispose()
    {
        _handle?.Dispose();
        _handle = null;
    }

    private void Append(byte[] frame)
    {
        RandomAccess.Write(_handle!, frame, _length);
        FileSync.FlushData(_handle!);
        _length += frame.Length;
    }

    private void Replace(byte[] frame)
    {
        _handle?.Dispose();
        _handle = null;
        AtomicFile.Replace(_path, frame);
        _handle = File.OpenHandle(_path, FileMode.Open, FileAccess.ReadWrite);
        (_length, _snapshotBytes, _needsSnapshot) = (frame.Length, frame.Length, false);
    }

    /// <summary>
    /// Replays frames (a file's bytes, or rows of frames put end to end): the snapshot, the deltas after it, and where
    /// and why it stopped early. Changes nothing.
    /// </summary>
    internal static CursorStateLoad Replay(byte[] bytes, string cursorKey)
    {
        CursorStateSnapshot? snapshot = null;
        var deltas = new List<CursorStateDelta>();
        long position = 0, snapshotBytes = 0;
        string? damage = null;
        long torn = 0;
        while (position < bytes.Length)
        {
            var rest = bytes.AsSpan((int)position);
            bool whole = CursorStateCodec.TryReadHeader(rest, out int length, out uint crc);
            var payload = whole ? rest.Slice(CursorStateCodec.HeaderBytes, length) : default;
            long end = position + CursorStateCodec.HeaderBytes + length;
            if (!whole || (!CursorStateCodec.ChecksumMatches(payload, crc) && end == bytes.Length))
            {
                // The last append, cut short or not fully on disk when the machine stopped: it was never confirmed.
                if (snapshot is null) damage = whole ? "the snapshot fails its checksum" : "the snapshot is cut short";
                else torn = bytes.Length - position;
                break;
            }
            if (!CursorStateCodec.ChecksumMatches(payload, crc))
            {
                damage = $"the frame at byte {position} fails its checksum";
                break;
            }
            if (snapshot is null)
            {
                snapshot = CursorStateCodec.DecodeSnapshot(payload, out string key, out string? problem);
                if (snapshot is not null && key != cursorKey) (snapshot, problem) = (null, $"it belongs to cursor '{key}', not '{cursorKey}'");
                if (snapshot is null)
                {
                    damage = $"the snapshot is unreadable: {problem}";
                    break;
                }
                snapshotBytes = end;
            }
            else
            {
                var delta = CursorStateCodec.DecodeDelta(payload, out string? problem);
                if (delta is null)
                {
                    damage = $"the frame at byte {position} is unreadable: {problem}";
                    break;
                }
                deltas.Add(delta);
            }
            position = end;
        }
        if (snapshot is null) return new CursorStateLoad { Damage = damage ?? "the file is empty" };
        return new CursorStateLoad
        {
            Snapshot = snapshot,
            Deltas = deltas,
            DamagedFrame = damage,
            TornTailBytes = torn,
            ValidBytes = position,
            SnapshotBytes = snapshotBytes,
        };
    }
}

/// <summary>A frame ready to be written (<see cref="CursorStateLog.Prepare"/>): a snapshot replaces the file, a delta is appended.</summary>
internal readonly record struct CursorStateWrite(byte[] Frame, bool IsSnapshot);
