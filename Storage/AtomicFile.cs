namespace Granary.Storage;

/// <summary>Replaces a small file of a partition directory atomically and durably.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Writes <c>{path}.tmp</c>, fsyncs it, renames it over <paramref name="path"/> and fsyncs the directory: a crash
    /// leaves the old contents or the new, never a mix (a leftover temp file is removed when the log is next opened).
    /// </summary>
    public static void Replace(string path, ReadOnlySpan<byte> bytes)
    {
        string temp = path + LogFileNames.TempSuffix;
        using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write))
        {
            RandomAccess.Write(handle, bytes, 0);
            FileSync.FlushData(handle);
        }
        File.Move(temp, path, overwrite: true);
        FileSync.FlushDirectory(Path.GetDirectoryName(path)!);
    }
}
