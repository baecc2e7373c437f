using Microsoft.Extensions.Options;

namespace Granary.Grains.Hosting;

/// <summary>Silo-wide Granary settings, bound from <c>Granary:*</c>.</summary>
public sealed class GranaryOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Granary";

    /// <summary>Root of partition logs, grain state and reminders. Default <c>./data</c>.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>Directory of the partition logs.</summary>
    public string LogsDirectory => Path.Combine(Path.GetFullPath(DataDirectory), "logs");

    /// <summary>Directory of grain state files.</summary>
    public string StateDirectory => Path.Combine(Path.GetFullPath(DataDirectory), "state");

    /// <summary>The reminder table file.</summary>
    public string RemindersFile => Path.Combine(Path.GetFullPath(DataDirectory), "reminders.json");

    /// <summary>How often a cursor checks its leases for expiry while it has messages in flight. Default 1 s.</summary>
    public TimeSpan LeaseCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often an active partition applies its topic's retention (deleting whole old segments). Default 1 min.</summary>
    public TimeSpan RetentionCheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A member that sends no heartbeat for this long leaves its group. Default 30 s.</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A partition or topic grain that gets no call for this long is deactivated: a partition then closes its log, so
    /// idle topics hold no open files and little memory. The next call activates it again (recovery from the
    /// checkpoint is quick). Must exceed Orleans' <c>GrainCollectionOptions.CollectionQuantum</c> (1 minute by default).
    /// Default 2 minutes.
    /// </summary>
    public TimeSpan IdlePartitionTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// What one fsync covers: a partition's own log, or (Linux) every log on the data directory's filesystem at once, so
    /// many busy partitions share one device flush. Default <see cref="Hosting.FlushScope.FileSystem"/>.
    /// </summary>
    public FlushScope FlushScope { get; set; } = FlushScope.FileSystem;

    /// <summary>
    /// Replication factor of a topic created without one. Default: 3 in cluster mode, 1 embedded. A topic never gets
    /// more replicas than there are silos when it is created.
    /// </summary>
    public int? DefaultReplicationFactor { get; set; }

    /// <summary>
    /// How long an <see cref="Acks.All"/> append waits for its replicas before it fails with
    /// <see cref="GranaryErrorCode.NotEnoughReplicas"/> (the batch may still be stored). Default 5 s: below the SDK's 10 s
    /// call timeout, so the producer sees the real reason.
    /// </summary>
    public TimeSpan ReplicaAckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Most partitions one topic may have; creating or growing a topic past it fails with
    /// <see cref="GranaryErrorCode.InvalidArgument"/> and changes nothing. Between 1 and 10,000. Default 1,000.
    /// </summary>
    public int MaxPartitionsPerTopic { get; set; } = 1_000;

    /// <summary>
    /// Most partition copies (partitions × replication factor, over all topics) per active silo: a create or grow that
    /// would take the cluster past this times its silo count fails with <see cref="GranaryErrorCode.InvalidArgument"/> and
    /// changes nothing. Every partition log holds open files and memory on its silo. At least 1. Default 10,000.
    /// </summary>
    public int MaxPartitionsPerSilo { get; set; } = 10_000;

    /// <summary>
    /// Most partition logs open at once on this silo; each holds the file handle of its active segment (sealed segments
    /// share a bounded cache, <c>Granary:Storage:SealedSegmentHandles</c>). Opening one more fails with a retriable
    /// <see cref="GranaryErrorCode.PartitionUnavailable"/> until an idle partition closes its log, instead of running the
    /// process out of file descriptors. Default null: the process's open-file limit minus the sealed-segment handle
    /// cache and 1,024 kept for sockets and other files, at least 64; no bound when the limit cannot be read.
    /// At least 1 when set.
    /// </summary>
    public int? MaxOpenPartitionLogs { get; set; }
}

/// <summary>Validates <see cref="GranaryOptions"/> at startup.</summary>
internal sealed class GranaryOptionsValidator : IValidateOptions<GranaryOptions>
{
    public ValidateOptionsResult Validate(string? name, GranaryOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.DataDirectory)) return ValidateOptionsResult.Fail("Granary:DataDirectory must be set.");
        if (options.LeaseCheckInterval <= TimeSpan.Zero) return ValidateOptionsResult.Fail("Granary:LeaseCheckInterval must be positive.");
        if (options.SessionTimeout <= TimeSpan.Zero) return ValidateOptionsResult.Fail("Granary:SessionTimeout must be positive.");
        if (options.RetentionCheckInterval <= TimeSpan.Zero) return ValidateOptionsResult.Fail("Granary:RetentionCheckInterval must be positive.");
        if (options.IdlePartitionTimeout <= TimeSpan.Zero) return ValidateOptionsResult.Fail("Granary:IdlePartitionTimeout must be positive.");
        if (options.DefaultReplicationFactor is < 1 or > 7) return ValidateOptionsResult.Fail("Granary:DefaultReplicationFactor must be between 1 and 7.");
        if (options.ReplicaAckTimeout <= TimeSpan.Zero) return ValidateOptionsResult.Fail("Granary:ReplicaAckTimeout must be positive.");
        if (options.MaxPartitionsPerTopic is < 1 or > 10_000) return ValidateOptionsResult.Fail("Granary:MaxPartitionsPerTopic must be between 1 and 10000.");
        if (options.MaxPartitionsPerSilo < 1) return ValidateOptionsResult.Fail("Granary:MaxPartitionsPerSilo must be at least 1.");
        if (options.MaxOpenPartitionLogs is < 1) return ValidateOptionsResult.Fail("Granary:MaxOpenPartitionLogs must be at least 1 when set.");
        if (!Enum.IsDefined(options.FlushScope)) return ValidateOptionsResult.Fail("Granary:FlushScope must be Partition or FileSystem.");
        return ValidateOptionsResult.Success;
    }
}
