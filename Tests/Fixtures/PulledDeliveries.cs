using Granary.Records;

namespace Granary.Tests.Fixtures;

/// <summary>Decoding of the read path's byte answers (pulls and fetches) for tests that call the grains directly.</summary>
public static class PulledDeliveries
{
    /// <summary>
    /// Pulls from the cursor as the SDK does (<see cref="IPartitionCursorGrain.PullRunsAsync"/>) and decodes the answer
    /// with the SDK's reader (which checks it against its leases).
    /// </summary>
    public static async Task<Delivery[]> PullDecodedAsync(this IPartitionCursorGrain cursor, string memberId, int maxMessages, TimeSpan lease, TimeSpan maxWait) =>
        Decode(await cursor.PullRunsAsync(memberId, maxMessages, lease, maxWait));

    /// <summary>The deliveries of a compact pull answer.</summary>
    public static Delivery[] Decode(LeasedBatches pull) =>
        [.. PulledRecords.Read(pull).Select(d => new Delivery(pull.Partition, ToMessage(d.Record), d.Lease.Attempt, d.Lease.LeaseId))];

    /// <summary>The deliveries of a pull's answer.</summary>
    public static Delivery[] Decode(PullResult pull) =>
        [.. PulledRecords.Read(pull).Select(d => new Delivery(pull.Partition, ToMessage(d.Record), d.Lease.Attempt, d.Lease.LeaseId))];

    /// <summary>The records a fetch meant: offsets in [FromOffset, NextOffset).</summary>
    public static PulledMessage[] Records(this FetchResult fetch) =>
        [.. StoredBatches.Read(fetch.Batches, fetch.FromOffset, fetch.NextOffset).Select(r => ToMessage(r.Record))];

    private static PulledMessage ToMessage(StoredRecord record) =>
        new(record.Offset, record.TimestampMs, record.Key?.ToArray(), record.Payload, record.ExpiresAtMs);
}
