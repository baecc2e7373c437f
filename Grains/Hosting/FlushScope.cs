namespace Granary.Grains.Hosting;

/// <summary>What one fsync of a partition log covers in a silo (<c>Granary:FlushScope</c>).</summary>
public enum FlushScope
{
    /// <summary>Each partition log fsyncs (fdatasync) its own active segment; concurrent appends to one log share it.</summary>
    Partition,

    /// <summary>
    /// Logs that need a flush at the same time share one syncfs of the filesystem holding the data directory (Linux
    /// only; elsewhere <see cref="Partition"/> is used). Every partition log must be on that filesystem.
    /// </summary>
    FileSystem,
}
