using Granary.Storage;

namespace Granary.Grains.Hosting;

/// <summary>Replaces a small file atomically and durably: temp file, fsync, rename, fsync of the directory.</summary>
internal static class DurableFile
{
    public static async Task WriteAsync(string path, ReadOnlyMemory<byte> bytes)
    {
        string directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        string temp = path + "." + Guid.NewGuid().ToString("N") + LogFileNames.TempSuffix;
        using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write))
        {
            await RandomAccess.WriteAsync(handle, bytes, 0).ConfigureAwait(false);
            FileSync.FlushData(handle);
        }
        File.Move(temp, path, overwrite: true);
        FileSync.FlushDirectory(directory);
    }

    public static void Delete(string path)
    {
        if (!File.Exists(path)) return;
        File.Delete(path);
        FileSync.FlushDirectory(Path.GetDirectoryName(path)!);
    }
}
