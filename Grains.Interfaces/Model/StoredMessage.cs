namespace Granary.Grains;

/// <summary>A message as stored in a partition.</summary>
[GenerateSerializer, Immutable, Alias("granary.StoredMessage")]
public sealed record StoredMessage(
    [property: Id(0)] long Offset,
    [property: Id(1)] long TimestampMs,
    [property: Id(2)] byte[]? Key,
    [property: Id(3)] ReadOnlyMemory<byte> Payload,
    [property: Id(4)] MessageHeader[]? Headers)
{
    /// <summary>When the message expires (Unix milliseconds); null when it never does.</summary>
    [Id(5)] public long? ExpiresAtMs { get; init; }

    /// <summary>Not to be delivered before this time (Unix milliseconds); null when not delayed.</summary>
    [Id(6)] public long? DeliverAtMs { get; init; }

    /// <summary>The value of header <paramref name="name"/> as UTF-8 text; null when the message has no such header.</summary>
    public string? HeaderText(string name)
    {
        foreach (var header in Headers ?? [])
        {
            if (header.Name == name) return System.Text.Encoding.UTF8.GetString(header.Value);
        }
        return null;
    }
}

/// <summary>What a fetch found.</summary>
/// <param name="Messages">Messages at or after the requested offset, in offset order.</param>
/// <param name="NextOffset">Where the next fetch should start.</param>
/// <param name="StartOffset">The partition's first retained offset.</param>
/// <param name="EndOffset">The partition's confirmed end.</param>
[GenerateSerializer, Immutable, Alias("granary.FetchResult")]
public sealed record FetchResult(
    [property: Id(0)] StoredMessage[] Messages,
    [property: Id(1)] long NextOffset,
    [property: Id(2)] long StartOffset,
    [property: Id(3)] long EndOffset)
{
    /// <summary>
    /// Set when the fetch started at offsets whose records are lost (a missing segment file or damaged data, see
    /// <see cref="PartitionInfo.Gaps"/>): offsets [<see cref="LostFromOffset"/>, <see cref="NextOffset"/>) cannot be
    /// delivered, and <see cref="Messages"/> is empty. The reader counts them as skipped and goes on at NextOffset.
    /// </summary>
    [Id(4)] public long? LostFromOffset { get; init; }
}

/// <summary>A message leased to one group member.</summary>
/// <param name="Partition">Partition number.</param>
/// <param name="Message">The message.</param>
/// <param name="Attempt">
/// 1 for the first delivery, raised on every redelivery after a nack, a lease expiry or a member leaving. A delivery
/// that the cursor took back to keep the order (an earlier message of the partition or key was nacked) does not
/// count: the message comes again with the same attempt number.
/// </param>
/// <param name="LeaseId">
/// Identifies this delivery's lease. Acks, nacks, rejects and lease extensions name it (<see cref="LeaseRef"/>), so
/// that one answering an older delivery of the same message is refused instead of settling the current holder's.
/// </param>
[GenerateSerializer, Immutable, Alias("granary.Delivery")]
public sealed record Delivery([property: Id(0)] int Partition, [property: Id(1)] StoredMessage Message, [property: Id(2)] int Attempt,
    [property: Id(3)] long LeaseId)
{
    /// <summary>This delivery as acks and nacks name it.</summary>
    public LeaseRef Ref => new(Message.Offset, LeaseId);
}
