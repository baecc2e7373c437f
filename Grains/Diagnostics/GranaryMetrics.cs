using System.Diagnostics;
using System.Diagnostics.Metrics;
using TagList = System.Diagnostics.TagList;

namespace Granary.Grains.Diagnostics;

/// <summary>
/// The broker's metrics: one <see cref="Meter"/> named <see cref="MeterName"/>, whose instruments the partition,
/// cursor and storage code record at the points where the work happens. Export them with OpenTelemetry
/// (<c>AddMeter("Granary")</c>) or read them with a <see cref="MeterListener"/>.
/// </summary>
/// <remarks>
/// Hot paths record once per batch (one <c>Add(count)</c>), never per message, with a stack-allocated
/// <see cref="System.Diagnostics.TagList"/>, so a recording allocates nothing. Instruments nobody listens to cost one branch.
/// Durations are in seconds, as OpenTelemetry's semantic conventions ask.
/// </remarks>
public static class GranaryMetrics
{
    /// <summary>Name of the broker's meter: pass it to OpenTelemetry's <c>AddMeter</c>.</summary>
    public const string MeterName = "Granary";

    internal const string TopicTag = "topic";
    internal const string GroupTag = "group";
    internal const string ReasonTag = "reason";
    internal const string CallTag = "call";

    // Group commit under FlushPolicy.Always puts an fsync (tens of microseconds on tmpfs, milliseconds on disks) in
    // every append: the default OpenTelemetry buckets (0, 5, 10, 25 ... 10,000) are meant for milliseconds and would
    // put every sample in the first bucket.
    private static readonly double[] AppendBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] FsyncBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

    internal static readonly Meter Meter = new(MeterName, typeof(GranaryMetrics).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> MessagesIn = Meter.CreateCounter<long>("granary.messages.in", "{message}",
        "Messages stored by a partition (message-id duplicates excluded), counted once the append is durable.");

    internal static readonly Counter<long> BytesIn = Meter.CreateCounter<long>("granary.bytes.in", "By",
        "Payload bytes of the messages counted by granary.messages.in (keys and headers excluded).");

    internal static readonly Counter<long> MessagesOut = Meter.CreateCounter<long>("granary.messages.out", "{message}",
        "Messages leased to consumers by pulls (a redelivery counts again).");

    internal static readonly Counter<long> BytesOut = Meter.CreateCounter<long>("granary.bytes.out", "By",
        "Payload bytes of the messages counted by granary.messages.out.");

    internal static readonly Histogram<double> AppendDuration = Meter.CreateHistogram("granary.append.duration", "s",
        "Time a partition took to store a batch: from the append call to its confirmation (fsync and replication included).",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AppendBuckets });

    internal static readonly Histogram<double> FsyncDuration = Meter.CreateHistogram("granary.fsync.duration", "s",
        "Time of one fdatasync (call=fdatasync) or shared syncfs (call=syncfs) of the storage engine.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FsyncBuckets });

    // The broker timestamp has whole milliseconds: an age is 0, 1, 2 ... ms, so the append buckets (0.5 ms, 1 ms,
    // 2.5 ms ...) separate the first ones.
    internal static readonly Histogram<double> DeliveryDelay = Meter.CreateHistogram("granary.delivery.delay", "s",
        "Per pull answer with first deliveries: how old the oldest of them was when the answer was written, from its broker timestamp (stamped at append) or its deliver-at time if later; whole milliseconds.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AppendBuckets });

    internal static readonly Counter<double> DeliveryAgeSum = Meter.CreateCounter<double>("granary.delivery.age", "s",
        "The ages granary.delivery.delay takes, summed over every first-delivered message of each pull, not only the oldest: divided by granary.delivery.age.messages, the mean delay per message.");

    internal static readonly Counter<long> DeliveryAgeMessages = Meter.CreateCounter<long>("granary.delivery.age.messages", "{message}",
        "Messages whose ages granary.delivery.age sums: first deliveries.");

    internal static readonly Histogram<double> FetchWake = Meter.CreateHistogram("granary.fetch.wake", "s",
        "Per long-polling fetch woken by new records: from the partition making them visible (the append confirmed, or committed when replicated) to the fetch having read them.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FsyncBuckets });

    internal static readonly Counter<long> Redeliveries = Meter.CreateCounter<long>("granary.redeliveries", "{message}",
        "Deliveries after the first of a message (after a nack, an expired lease or a member leaving).");

    internal static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("granary.dead_letters", "{message}",
        "Messages written to a dead-letter topic, by reason (max-deliveries, expired, rejected).");

    internal static readonly Counter<long> Expirations = Meter.CreateCounter<long>("granary.expirations", "{message}",
        "Messages whose time to live ran out before a group acknowledged them (dropped or dead-lettered).");

    internal static readonly Counter<long> PublishesRejected = Meter.CreateCounter<long>("granary.publishes.rejected", "{message}",
        "Messages of appends a partition failed, by error code (reason): refused, or stored but not confirmed (acks All short of in-sync replicas).");

    internal static readonly Counter<long> LostOffsets = Meter.CreateCounter<long>("granary.log.lost_offsets", "{message}",
        "Offsets a partition log found lost (a missing segment file, damage inside confirmed data), counted once per gap when it is found, at open or on a read.");

    internal static readonly ObservableGauge<long> ConsumerLag = Meter.CreateObservableGauge("granary.consumer.lag",
        ConsumerLagRegistry.Observe, "{message}",
        "Messages not yet acknowledged by a group, summed over the partitions whose cursors this silo hosts, as of each cursor's last fetch or ack.");

    // GranaryErrorCode.ToString() allocates each time; rejections are rare, but a table is as simple.
    private static readonly Dictionary<GranaryErrorCode, string> ErrorNames = Enum.GetValues<GranaryErrorCode>().ToDictionary(c => c, c => c.ToString());

    /// <summary>A batch a partition stored durably: <paramref name="messages"/> of them, <paramref name="payloadBytes"/> of payload.</summary>
    internal static void RecordStored(string topic, int messages, long payloadBytes)
    {
        var tags = new TagList { { TopicTag, topic } };
        MessagesIn.Add(messages, in tags);
        BytesIn.Add(payloadBytes, in tags);
    }

    /// <summary>How long an append took, from its start timestamp (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    internal static void RecordAppendDuration(string topic, long startTimestamp)
    {
        if (!AppendDuration.Enabled) return;
        AppendDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new TagList { { TopicTag, topic } });
    }

    /// <summary>A pull that leased <paramref name="messages"/> messages, <paramref name="redelivered"/> of them not for the first time.</summary>
    internal static void RecordDelivered(string topic, string group, int messages, long payloadBytes, int redelivered)
    {
        var outTags = new TagList { { TopicTag, topic } };
        MessagesOut.Add(messages, in outTags);
        BytesOut.Add(payloadBytes, in outTags);
        if (redelivered > 0) Redeliveries.Add(redelivered, new TagList { { TopicTag, topic }, { GroupTag, group } });
    }

    /// <summary>Whether anything listens to the delivery delay: the pull computes ages only then.</summary>
    internal static bool DeliveryDelayEnabled => DeliveryDelay.Enabled || DeliveryAgeSum.Enabled || DeliveryAgeMessages.Enabled;

    /// <summary>
    /// One pull answer's first deliveries: <paramref name="messages"/> of them, the oldest <paramref name="oldestMs"/>
    /// old, their ages summing to <paramref name="summedMs"/>.
    /// </summary>
    internal static void RecordDeliveryDelay(string topic, string group, long oldestMs, long summedMs, int messages)
    {
        var tags = new TagList { { TopicTag, topic }, { GroupTag, group } };
        DeliveryDelay.Record(oldestMs / 1000.0, in tags);
        DeliveryAgeSum.Add(summedMs / 1000.0, in tags);
        DeliveryAgeMessages.Add(messages, in tags);
    }

    /// <summary>A long-polling fetch that read new records <paramref name="sinceSignal"/> after the partition made them visible.</summary>
    internal static void RecordFetchWake(string topic, TimeSpan sinceSignal)
    {
        if (!FetchWake.Enabled) return;
        FetchWake.Record(sinceSignal.TotalSeconds, new TagList { { TopicTag, topic } });
    }

    /// <summary>Dead letters written for one reason (one of <see cref="GranaryHeaders.Reasons"/>).</summary>
    internal static void RecordDeadLettered(string topic, string group, string reason, int count)
    {
        if (count > 0) DeadLetters.Add(count, new TagList { { TopicTag, topic }, { GroupTag, group }, { ReasonTag, reason } });
    }

    internal static void RecordExpired(string topic, string group, int count)
    {
        if (count > 0) Expirations.Add(count, new TagList { { TopicTag, topic }, { GroupTag, group } });
    }

    internal static void RecordRejected(string topic, GranaryErrorCode code, int messages)
    {
        if (messages > 0) PublishesRejected.Add(messages, new TagList { { TopicTag, topic }, { ReasonTag, ErrorNames.GetValueOrDefault(code) ?? code.ToString() } });
    }

    /// <summary>A gap of <paramref name="offsets"/> lost offsets that a partition log of <paramref name="topic"/> found.</summary>
    internal static void RecordLostOffsets(string topic, long offsets)
    {
        if (offsets > 0) LostOffsets.Add(offsets, new TagList { { TopicTag, topic } });
    }

    /// <summary>One fsync-type call of the storage engine (<paramref name="call"/>: fdatasync or syncfs) that started at <paramref name="startTimestamp"/>.</summary>
    internal static void RecordFsync(string call, long startTimestamp)
    {
        if (!FsyncDuration.Enabled) return;
        FsyncDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new TagList { { CallTag, call } });
    }
}
