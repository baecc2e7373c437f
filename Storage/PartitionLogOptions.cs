using Granary.Records;
namespace Granary.Storage;

/// <summary>Settings of one partition log. Validate with <see cref="Validate"/> before use.</summary>
public sealed class PartitionLogOptions
{
    /// <summary>Configuration section these options bind to.</summary>
    public const string SectionName = "Granary:Storage";

    /// <summary>Roll to a new segment once the active one would exceed this many bytes. Default 1 GiB; at most 2 GiB - 1.</summary>
    public long SegmentBytes { get; set; } = 1L << 30;

    /// <summary>Roll to a new segment once the active one is this old (since its creation). Default 7 days.</summary>
    public TimeSpan SegmentMaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Add an offset index entry after at least this many bytes of batches. Default 4096.</summary>
    public int IndexIntervalBytes { get; set; } = 4096;

    /// <summary>When appends are forced to disk. Default <see cref="FlushPolicy.Always"/>.</summary>
    public FlushPolicy FlushPolicy { get; set; } = FlushPolicy.Always;

    /// <summary>Period of the background fsync under <see cref="FlushPolicy.Interval"/>. Default 200 ms.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// When set, the log's flushes (under <see cref="FlushPolicy.Always"/> and <see cref="FlushPolicy.Interval"/>) go
    /// through this shared flusher, one syncfs for every log that needs one at the time, instead of an fdatasync of
    /// its own. The log must be on the flusher's filesystem. Segment rolls still fsync the sealed segment itself.
    /// Set by the host (see <c>Granary:Storage:FlushScope</c>); not bound from configuration. Default null.
    /// </summary>
    public FileSystemFlusher? SharedFlusher { get; set; }

    /// <summary>
    /// When set, the handles of this log's sealed segments are opened on demand and closed while idle by this cache,
    /// shared by every log of the process, so open files no longer grow with the number of segments. The active
    /// segment keeps its handle. Set by the host (capacity from <see cref="SealedSegmentHandles"/>); not bound from
    /// configuration. Default null: every segment keeps its handle open while the log is open.
    /// </summary>
    public SegmentHandleCache? SharedHandleCache { get; set; }

    /// <summary>
    /// Capacity of the host's <see cref="SharedHandleCache"/>: most idle sealed-segment file handles kept open by the
    /// whole silo. Default null: <see cref="SegmentHandleCache.DefaultCapacity"/> (a quarter of the process's open-file
    /// limit, between 16 and 4096). At least 1 when set.
    /// </summary>
    public int? SealedSegmentHandles { get; set; }

    /// <summary>
    /// Called once for every gap the log finds (a missing segment file, damage inside confirmed data; see
    /// <see cref="LogGap"/>), during recovery or on a read, so the host can count it. Runs on the finding thread; must
    /// not throw or block. Set by the host; not bound from configuration. Default null.
    /// </summary>
    public Action<LogGap>? GapReported { get; set; }

    /// <summary>
    /// How often, at most, the recovery checkpoint is rewritten after a flush. Recovery re-verifies only what the
    /// checkpoint does not cover. Default 10 seconds.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Delete sealed segments whose newest record is older than this. Default: keep forever (null).</summary>
    public TimeSpan? RetentionTime { get; set; }

    /// <summary>Delete the oldest sealed segments while the log is larger than this. Default: no limit (null).</summary>
    public long? RetentionBytes { get; set; }

    /// <summary>
    /// Largest encoded record batch accepted by an append, in bytes. Default 16 MiB. Independent of
    /// <see cref="SegmentBytes"/>: a batch larger than a segment gets a segment of its own (the log rolls before it, as
    /// Kafka does), so a small segment size never makes a message the topic allows unstorable.
    /// </summary>
    public int MaxBatchBytes { get; set; } = 16 << 20;

    /// <summary>
    /// The largest batch any segment file can hold after its header: positions inside a segment are 32-bit. Bounds
    /// <see cref="EffectiveMaxBatchBytes"/> and copies from other replicas.
    /// </summary>
    public const int MaxSegmentBatchBytes = int.MaxValue - SegmentHeader.Size;

    /// <summary>The limit appends enforce: <see cref="MaxBatchBytes"/>, capped by what one segment file can address.</summary>
    public int EffectiveMaxBatchBytes => Math.Min(MaxBatchBytes, MaxSegmentBatchBytes);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        if (SegmentBytes < 4096 || SegmentBytes > int.MaxValue)
            throw new ArgumentException($"{SectionName}:{nameof(SegmentBytes)} must be between 4096 and {int.MaxValue}; it is {SegmentBytes}.");
        if (SegmentMaxAge <= TimeSpan.Zero)
            throw new ArgumentException($"{SectionName}:{nameof(SegmentMaxAge)} must be positive; it is {SegmentMaxAge}.");
        if (IndexIntervalBytes < 1)
            throw new ArgumentException($"{SectionName}:{nameof(IndexIntervalBytes)} must be positive; it is {IndexIntervalBytes}.");
        if (!Enum.IsDefined(FlushPolicy))
            throw new ArgumentException($"{SectionName}:{nameof(FlushPolicy)} must be Always, Interval or None; it is {FlushPolicy}.");
        if (FlushInterval <= TimeSpan.Zero)
            throw new ArgumentException($"{SectionName}:{nameof(FlushInterval)} must be positive; it is {FlushInterval}.");
        if (CheckpointInterval < TimeSpan.Zero)
            throw new ArgumentException($"{SectionName}:{nameof(CheckpointInterval)} must not be negative; it is {CheckpointInterval}.");
        if (RetentionTime is { } time && time <= TimeSpan.Zero)
            throw new ArgumentException($"{SectionName}:{nameof(RetentionTime)} must be positive when set; it is {time}.");
        if (RetentionBytes is { } bytes && bytes < 0)
            throw new ArgumentException($"{SectionName}:{nameof(RetentionBytes)} must not be negative when set; it is {bytes}.");
        if (SealedSegmentHandles is { } handles && handles < 1)
            throw new ArgumentException($"{SectionName}:{nameof(SealedSegmentHandles)} must be at least 1 when set; it is {handles}.");
        if (MaxBatchBytes < RecordBatchCodec.HeaderSize)
            throw new ArgumentException($"{SectionName}:{nameof(MaxBatchBytes)} must be at least {RecordBatchCodec.HeaderSize}; it is {MaxBatchBytes}.");
    }

    /// <summary>A copy of these options, so later changes by the caller do not reach an open log.</summary>
    public PartitionLogOptions Clone() => (PartitionLogOptions)MemberwiseClone();
}
