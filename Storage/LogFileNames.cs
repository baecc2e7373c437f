using System.Globalization;

namespace Granary.Storage;

/// <summary>
/// Names of the files in a partition directory. A segment is named by its base offset, zero-padded to
/// 20 digits so that a plain directory listing sorts segments in offset order.
/// </summary>
public static class LogFileNames
{
    /// <summary>Suffix of segment data files.</summary>
    public const string LogSuffix = ".log";
    /// <summary>Suffix of sparse offset index files.</summary>
    public const string OffsetIndexSuffix = ".index";
    /// <summary>Suffix of sparse time index files.</summary>
    public const string TimeIndexSuffix = ".timeindex";
    /// <summary>Suffix of a file being written before it is renamed into place.</summary>
    public const string TempSuffix = ".tmp";
    /// <summary>The recovery checkpoint of the partition.</summary>
    public const string Checkpoint = "checkpoint";
    /// <summary>The leader epochs of a replicated partition (<see cref="LeaderEpochs"/>).</summary>
    public const string LeaderEpochs = "leader-epochs";

    /// <summary>The file name stem of the segment with the given base offset.</summary>
    public static string Stem(long baseOffset) => baseOffset.ToString("D20", CultureInfo.InvariantCulture);

    /// <summary>Path of the data file of a segment.</summary>
    public static string LogFile(string directory, long baseOffset) => Path.Combine(directory, Stem(baseOffset) + LogSuffix);

    /// <summary>Path of the offset index of a segment.</summary>
    public static string OffsetIndexFile(string directory, long baseOffset) => Path.Combine(directory, Stem(baseOffset) + OffsetIndexSuffix);

    /// <summary>Path of the time index of a segment.</summary>
    public static string TimeIndexFile(string directory, long baseOffset) => Path.Combine(directory, Stem(baseOffset) + TimeIndexSuffix);

    /// <summary>Path of the checkpoint file of a partition directory.</summary>
    public static string CheckpointFile(string directory) => Path.Combine(directory, Checkpoint);

    /// <summary>Parses a segment data file name back to its base offset.</summary>
    public static bool TryParseLogFile(string path, out long baseOffset) => TryParse(path, LogSuffix, out baseOffset);

    /// <summary>Parses the name of a segment file with <paramref name="suffix"/> (a segment's data or index file) back to its base offset.</summary>
    public static bool TryParse(string path, string suffix, out long baseOffset)
    {
        baseOffset = 0;
        var name = Path.GetFileName(path.AsSpan());
        return name.Length == 20 + suffix.Length
            && name.EndsWith(suffix, StringComparison.Ordinal)
            && long.TryParse(name[..20], NumberStyles.None, CultureInfo.InvariantCulture, out baseOffset);
    }
}
