namespace Granary.Grains;

/// <summary>A named header: a name and opaque bytes.</summary>
[GenerateSerializer, Immutable, Alias("granary.MessageHeader")]
public sealed record MessageHeader([property: Id(0)] string Name, [property: Id(1)] byte[] Value);

/// <summary>A message to append; the partition assigns its offset and timestamp.</summary>
/// <param name="Key">Ordering key (UTF-8 of the SDK's string key), or null.</param>
/// <param name="Payload">The body.</param>
/// <param name="Headers">Headers, or null.</param>
[GenerateSerializer, Immutable, Alias("granary.Message")]
public sealed record Message(
    [property: Id(0)] byte[]? Key,
    [property: Id(1)] ReadOnlyMemory<byte> Payload,
    [property: Id(2)] MessageHeader[]? Headers)
{
    /// <summary>Time to live in milliseconds from the broker's timestamp; null for the topic's default.</summary>
    [Id(3)] public long? TimeToLiveMs { get; init; }

    /// <summary>Not to be delivered to any group before this time (Unix milliseconds); null to deliver at once.</summary>
    [Id(4)] public long? DeliverAtMs { get; init; }

    /// <summary>Bytes the message carries: payload, key, header names and values.</summary>
    public int SizeInBytes()
    {
        long size = Payload.Length + (Key?.Length ?? 0);
        if (Headers is not null)
            foreach (var header in Headers) size += System.Text.Encoding.UTF8.GetByteCount(header.Name) + header.Value.Length;
        return (int)Math.Min(int.MaxValue, size);
    }

    /// <summary>
    /// Bytes of the W3C trace-context headers (<c>traceparent</c>, <c>tracestate</c>, up to the sizes the standard
    /// allows) that do not count against a topic's <c>MaxMessageBytes</c>: <see cref="SizeInBytes"/> less this is
    /// checked, so that a message the topic accepts untraced is not refused once a tracer listens and the producer adds them.
    /// </summary>
    private int TraceContextBytes()
    {
        int bytes = 0;
        foreach (var header in Headers ?? [])
        {
            int allowance = header.Name switch
            {
                GranaryHeaders.TraceParent => TraceParentAllowance,
                GranaryHeaders.TraceState => TraceStateAllowance,
                _ => 0,
            };
            if (allowance > 0) bytes += header.Name.Length + Math.Min(header.Value.Length, allowance);
        }
        return bytes;
    }

    /// <summary>
    /// Refuses a message whose bytes counted against <paramref name="maxMessageBytes"/> (its <paramref name="sizeInBytes"/>,
    /// as <see cref="SizeInBytes"/> gave it, less <see cref="TraceContextBytes"/>) are more than that limit.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.MessageTooLarge"/>.</exception>
    public void EnsureWithinLimit(int sizeInBytes, int maxMessageBytes, string topic)
    {
        int counted = sizeInBytes - TraceContextBytes();
        if (counted > maxMessageBytes)
            throw new GranaryException(GranaryErrorCode.MessageTooLarge, $"A message of {counted} bytes exceeds the limit of {maxMessageBytes} bytes of topic '{topic}'.");
    }

    // W3C Trace Context: a version-00 traceparent is 55 characters; a tracestate may be cut to 512.
    private const int TraceParentAllowance = 55;
    private const int TraceStateAllowance = 512;
}

/// <summary>
/// Messages for one partition, as objects: the model of the cold paths (dead letters, redrive, tools and tests), which
/// <see cref="PartitionAppends.AppendAsync(IPartitionGrain, MessageBatch)"/> encodes into a <see cref="ProduceBatch"/>.
/// It does not cross the wire.
/// </summary>
/// <param name="Messages">The messages, in order.</param>
public sealed record MessageBatch([property: Id(0)] Message[] Messages)
{
    /// <summary>Id of the idempotent producer that sent the batch; 0 when the producer is not idempotent.</summary>
    public long ProducerId { get; init; }

    /// <summary>
    /// The producer's sequence number of the first message on this partition; message i has <c>BaseSequence + i</c>.
    /// A batch whose sequences the partition has stored already is a retry and is not stored again.
    /// </summary>
    public int BaseSequence { get; init; }

    /// <summary>When the partition confirms the batch. Default <see cref="Acks.All"/>.</summary>
    public Acks Acks { get; init; }
}

/// <summary>
/// Where a batch landed: message i has offset <c>BaseOffset + i</c>, unless <see cref="Offsets"/> is set (some messages
/// were duplicates of ones stored earlier, which keep their first offset).
/// </summary>
[GenerateSerializer, Immutable, Alias("granary.AppendResult")]
public sealed record AppendResult([property: Id(0)] long BaseOffset, [property: Id(1)] int Count, [property: Id(2)] long TimestampMs)
{
    /// <summary>Offset of each message, when they are not simply <c>BaseOffset + i</c>; null otherwise.</summary>
    [Id(3)] public long[]? Offsets { get; init; }

    /// <summary>Per message: true when it was a duplicate and not stored again; null when none was.</summary>
    [Id(4)] public bool[]? Duplicates { get; init; }
}
