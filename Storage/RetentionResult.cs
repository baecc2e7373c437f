namespace Granary.Storage;

/// <summary>What one retention pass did.</summary>
/// <param name="SegmentsDeleted">Whole segments deleted.</param>
/// <param name="RecordsDeleted">Offsets they held (the rise of the log's start offset).</param>
/// <param name="HeldBack">
/// A segment that the retention time or size would have deleted was kept because it holds offsets at or above the
/// offset to keep from.
/// </param>
public readonly record struct RetentionResult(int SegmentsDeleted, long RecordsDeleted, bool HeldBack);
