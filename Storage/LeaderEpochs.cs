using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Granary.Storage;

/// <summary>One leader epoch of a replicated log: the epoch and the offset of its first record.</summary>
public readonly record struct EpochStart(long Epoch, long StartOffset);

/// <summary>
/// The leader epochs of one replica of a partition log, kept beside its segments (<c>leader-epochs</c>): which epoch
/// wrote each range of offsets, and the highest epoch this replica has promised to follow. Two replicas agree up to
/// an offset when the epoch that wrote it is the same in both, so a follower can find where it diverged from its
/// leader without comparing data (as Kafka's leader-epoch checkpoint does). A lower epoch than the promised one is
/// fenced off: a deposed leader cannot write here. Thread-safe; every change is replaced atomically and fsynced.
/// </summary>
public sealed class LeaderEpochs
{
    private readonly string _path;
    private readonly Lock _lock = new();
    private List<EpochStart> _epochs;
    private long _promised;

    private LeaderEpochs(string path, long promised, List<EpochStart> epochs)
    {
        _path = path;
        _promised = promised;
        _epochs = epochs;
    }

    /// <summary>The highest epoch this replica accepts writes from.</summary>
    public long Promised { get { lock (_lock) return _promised; } }

    /// <summary>The epoch that wrote the last records (0 when none did).</summary>
    public long LastEpoch { get { lock (_lock) return _epochs.Count == 0 ? 0 : _epochs[^1].Epoch; } }

    /// <summary>A copy of the epochs, oldest first.</summary>
    public IReadOnlyList<EpochStart> Entries { get { lock (_lock) return [.. _epochs]; } }

    /// <summary>Loads the epochs of the log in <paramref name="directory"/>; a missing or unreadable file is an empty history.</summary>
    public static LeaderEpochs Load(string directory, ILogger logger)
    {
        string path = Path.Combine(directory, LogFileNames.LeaderEpochs);
        var epochs = new List<EpochStart>();
        long promised = 0;
        if (!File.Exists(path)) return new LeaderEpochs(path, 0, epochs);
        try
        {
            var lines = File.ReadAllLines(path);
            promised = long.Parse(lines[0], CultureInfo.InvariantCulture);
            foreach (string line in lines.Skip(1))
            {
                var parts = line.Split(' ');
                epochs.Add(new EpochStart(long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture)));
            }
        }
        catch (Exception e) when (e is FormatException or IndexOutOfRangeException or OverflowException)
        {
            // The file is replaced atomically, so this is disk damage. An empty history makes the leader treat the
            // whole log as divergent and copy it again: slower, never wrong.
            StorageLog.LogFailed(logger, directory, e);
            epochs.Clear();
        }
        return new LeaderEpochs(path, promised, epochs);
    }

    /// <summary>
    /// Accepts <paramref name="epoch"/> as the current leader's; false when a higher one was promised already (the
    /// caller is a deposed leader).
    /// </summary>
    public bool TryPromise(long epoch)
    {
        lock (_lock)
        {
            if (epoch < _promised) return false;
            if (epoch > _promised)
            {
                _promised = epoch;
                SaveLocked();
            }
            return true;
        }
    }

    /// <summary>Records that <paramref name="epoch"/> writes from <paramref name="startOffset"/> on (no-op when it is the last epoch already).</summary>
    public void Begin(long epoch, long startOffset)
    {
        lock (_lock)
        {
            if (_epochs.Count > 0 && _epochs[^1].Epoch >= epoch) return;
            _epochs.Add(new EpochStart(epoch, startOffset));
            SaveLocked();
        }
    }

    /// <summary>Forgets the epochs whose records all lie at or after <paramref name="offset"/> (the log was truncated there).</summary>
    public void TruncateFrom(long offset)
    {
        lock (_lock)
        {
            int keep = _epochs.Count;
            while (keep > 0 && _epochs[keep - 1].StartOffset >= offset) keep--;
            if (keep == _epochs.Count) return;
            _epochs.RemoveRange(keep, _epochs.Count - keep);
            SaveLocked();
        }
    }

    /// <summary>
    /// Where the records of <paramref name="epoch"/> (and older ones) end in this replica: the start of the first
    /// later epoch, or <paramref name="logEnd"/> when there is none. A follower whose last epoch is
    /// <paramref name="epoch"/> agrees with this replica below that offset.
    /// </summary>
    public long EndOf(long epoch, long logEnd)
    {
        lock (_lock)
        {
            foreach (var entry in _epochs)
                if (entry.Epoch > epoch) return Math.Min(entry.StartOffset, logEnd);
            return logEnd;
        }
    }

    /// <summary>
    /// The latest epoch of this replica at or below <paramref name="epoch"/> (0 when there is none) and where its records
    /// end here. A replica whose own last epoch is <paramref name="epoch"/> agrees with this one below
    /// <see cref="AgreedEnd"/> of the answer (Kafka's OffsetsForLeaderEpoch).
    /// </summary>
    public (long Epoch, long End) Floor(long epoch, long logEnd)
    {
        lock (_lock)
        {
            int i = _epochs.Count - 1;
            while (i >= 0 && _epochs[i].Epoch > epoch) i--;
            if (i < 0) return (0, _epochs.Count == 0 ? logEnd : Math.Min(_epochs[0].StartOffset, logEnd));
            return (_epochs[i].Epoch, i + 1 < _epochs.Count ? Math.Min(_epochs[i + 1].StartOffset, logEnd) : logEnd);
        }
    }

    /// <summary>
    /// Where this replica (ending at <paramref name="logEnd"/>) and another agree, given the other's
    /// <see cref="Floor"/> of this replica's last epoch: both wrote <paramref name="other"/>'s epoch up to the smaller
    /// of the two ends of it. Records at or above the answer must go before copying from the other.
    /// </summary>
    public long AgreedEnd((long Epoch, long End) other, long logEnd) => Math.Min(other.End, EndOf(other.Epoch, logEnd));

    /// <summary>
    /// The epoch that wrote <paramref name="offset"/> and the offset where that epoch's records end
    /// (<paramref name="logEnd"/> for the last one): a copy must not cross it, so each copy carries one epoch.
    /// </summary>
    public (long Epoch, long End) EpochAt(long offset, long logEnd)
    {
        lock (_lock)
        {
            long epoch = 0, end = logEnd;
            for (int i = 0; i < _epochs.Count; i++)
            {
                if (_epochs[i].StartOffset > offset) { end = Math.Min(_epochs[i].StartOffset, logEnd); break; }
                epoch = _epochs[i].Epoch;
            }
            return (epoch, end);
        }
    }

    private void SaveLocked()
    {
        var text = new StringBuilder();
        text.Append(_promised.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var entry in _epochs)
            text.Append(entry.Epoch.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(entry.StartOffset.ToString(CultureInfo.InvariantCulture)).Append('\n');
        AtomicFile.Replace(_path, Encoding.ASCII.GetBytes(text.ToString()));
    }
}
