namespace Granary.Storage;

/// <summary>
/// Offsets the log once held (or should hold) whose records are lost: a segment file is missing, or bytes inside
/// confirmed data are damaged. Reads never skip a gap silently: a read starting in one fails with a
/// <see cref="LogCorruptedException"/> whose <see cref="LogCorruptedException.ResumeOffset"/> is <see cref="EndOffset"/>.
/// </summary>
/// <param name="StartOffset">First lost offset.</param>
/// <param name="EndOffset">First offset after the gap (where reads may continue).</param>
/// <param name="File">The segment file that is missing or damaged (for a run of missing files, the first).</param>
/// <param name="Reason">What was found, in words.</param>
public sealed record LogGap(long StartOffset, long EndOffset, string File, string Reason)
{
    /// <summary>Number of offsets in the gap.</summary>
    public long Count => EndOffset - StartOffset;

    /// <summary>True when <paramref name="offset"/> lies in the gap.</summary>
    public bool Contains(long offset) => offset >= StartOffset && offset < EndOffset;
}
