using Granary.Storage;

namespace Granary.Grains.Hosting;

/// <summary>Replaces a small file atomically and durably: temp file, fsync, rename, fsync of the directory.</summary>
internal static class DurableFile
{
    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="path"/>. With <paramref name="previous"/>, the file being replaced
    /// is first renamed to that name (a crash between the two renames leaves the previous copy and no current one,
    /// which readers of <see cref="StateFiles.StateFile"/> treat as "read the previous copy"). A write that fails removes
    /// its temp file; a crash can still leave one, which <see cref="StateFiles.StaleTempFiles"/> removes at the next start.
    /// </summary>
    public static async Task WriteAsync(string path, ReadOnlyMemory<byte> bytes, string? previous = null)
    {
        string directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        string temp = TempPathFor(path);
        try
        {
            using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write))
            {
                await RandomAccess.WriteAsync(handle, bytes, 0).ConfigureAwait(false);
                FileSync.FlushData(handle);
            }
            if (previous is not null && File.Exists(path)) File.Move(path, previous, overwrite: true);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        FileSync.FlushDirectory(directory);
    }

    public static void Delete(string path)
    {
        if (!File.Exists(path)) return;
        File.Delete(path);
        FileSync.FlushDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>The temp file a write of <paramref name="path"/> goes through: <c>{path}.{guid}.tmp</c>.</summary>
    internal static string TempPathFor(string path) => path + "." + Guid.NewGuid().ToString("N") + LogFileNames.TempSuffix;

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // the disk that failed the write may fail this too; the next start removes the file
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
