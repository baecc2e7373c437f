namespace Granary.Grains.Hosting.StateFiles;

/// <summary>
/// A small state file of embedded mode, framed by <see cref="StateFileFormat"/>, with the copy it replaced kept beside
/// it as <c>{path}.prev</c>. Reading verifies the current copy and falls back to the previous one when the current is
/// damaged or missing; the caller decides what a file with no good copy means.
/// </summary>
internal static class StateFile
{
    /// <summary>Appended to a state file's path for the copy it replaced.</summary>
    public const string PreviousSuffix = ".prev";

    /// <summary>Where the previous copy of <paramref name="path"/> is kept.</summary>
    public static string PreviousOf(string path) => path + PreviousSuffix;

    /// <summary>
    /// Reads <paramref name="path"/> (then its previous copy) and parses the body with <paramref name="parse"/>, which gets
    /// the body and whether the file is of the unframed legacy format, and throws on content it cannot use (an
    /// <see cref="InvalidDataException"/>'s message is kept as the problem).
    /// </summary>
    public static async Task<StateFileRead<T>> ReadAsync<T>(string path, Func<ReadOnlyMemory<byte>, bool, T> parse)
    {
        var current = await TryLoadAsync(path, parse).ConfigureAwait(false);
        if (current.Value is { } value) return new StateFileRead<T>(StateFileSource.Current, value, null);
        var previous = await TryLoadAsync(PreviousOf(path), parse).ConfigureAwait(false);
        if (previous.Value is { } older) return new StateFileRead<T>(StateFileSource.Previous, older, current.Problem);
        if (current.Problem is null && previous.Problem is null) return new StateFileRead<T>(StateFileSource.None, default, null);
        string problem = current.Problem ?? "the file is missing";
        if (previous.Problem is not null) problem += $"; its previous copy is damaged too ({previous.Problem})";
        else problem += "; there is no previous copy";
        return new StateFileRead<T>(StateFileSource.Damaged, default, problem);
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with a framed <paramref name="body"/>. When <paramref name="currentIsGood"/>, the
    /// copy being replaced becomes the previous copy; a damaged one is overwritten and the previous copy stays.
    /// </summary>
    public static Task WriteAsync(string path, ReadOnlySpan<byte> body, bool currentIsGood) =>
        DurableFile.WriteAsync(path, StateFileFormat.Encode(body), currentIsGood ? PreviousOf(path) : null);

    /// <summary>Deletes the file and its previous copy (that first: a crash in between must not bring the state back).</summary>
    public static void Delete(string path)
    {
        DurableFile.Delete(PreviousOf(path));
        DurableFile.Delete(path);
    }

    private static async Task<(T? Value, string? Problem)> TryLoadAsync<T>(string path, Func<ReadOnlyMemory<byte>, bool, T> parse)
    {
        byte[] file;
        try
        {
            file = await File.ReadAllBytesAsync(path).ConfigureAwait(false);
        }
        catch (FileNotFoundException) { return (default, null); }
        catch (DirectoryNotFoundException) { return (default, null); }
        bool framed = StateFileFormat.LooksFramed(file);
        ReadOnlyMemory<byte> body = file;
        if (framed && !StateFileFormat.TryDecode(file, out body, out string problem)) return (default, $"{Path.GetFileName(path)}: {problem}");
        try
        {
            var value = parse(body, !framed);
            return value is null ? (default, $"{Path.GetFileName(path)}: it holds no value") : (value, null);
        }
        catch (InvalidDataException e)
        {
            return (default, $"{Path.GetFileName(path)}: {e.Message}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A framed body passed its checksum, so this is a legacy file (or a bug): either way unusable.
            return (default, $"{Path.GetFileName(path)}: {(framed ? "" : "unframed (earlier format) and ")}unreadable ({e.GetType().Name})");
        }
    }
}

/// <summary>Where a read of a <see cref="StateFile"/> found its value.</summary>
internal enum StateFileSource
{
    /// <summary>Neither the file nor a previous copy exists: never written, or deleted.</summary>
    None,
    /// <summary>The current copy, verified.</summary>
    Current,
    /// <summary>The previous copy: the current one is damaged, or missing after a crash between the two renames of a write.</summary>
    Previous,
    /// <summary>No good copy: the current one is damaged (or missing) and so is the previous one (or there is none).</summary>
    Damaged,
}

/// <summary>The outcome of <see cref="StateFile.ReadAsync{T}"/>: the value (unless <see cref="Source"/> is None or Damaged) and what was wrong.</summary>
internal sealed record StateFileRead<T>(StateFileSource Source, T? Value, string? Problem);
