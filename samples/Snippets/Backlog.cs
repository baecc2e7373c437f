using Granary.Client;

namespace Granary.Samples.Snippets;

/// <summary>README: Backlog, full queues and replay.</summary>
public static class Backlog
{
    /// <summary>A topic that refuses sends when full, and a sender that sees it.</summary>
    public static async Task RejectWhenFullAsync(GranaryClient client, GranaryProducer producer, OutgoingMessage message)
    {
        // <overflow-policy>
        await client.Admin.CreateTopicAsync("jobs", new TopicOptions
        {
            RetentionBytes = 10L << 30,
            Overflow = OverflowPolicy.RejectPublish,   // default DropOldest
        });
        try { await producer.SendAsync(message); }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.QueueFull) { /* retriable: consumers are behind */ }
        // </overflow-policy>
    }

    /// <summary>The ways to move a group.</summary>
    public static async Task SeekAsync(GranaryClient client)
    {
        // <seek>
        await client.Admin.SeekAsync("orders", "billing", SeekTarget.ToTimestamp(DateTimeOffset.UtcNow.AddHours(-1)));
        await client.Admin.SeekAsync("orders", "billing", SeekTarget.Latest);              // skip the backlog
        await client.Admin.SeekAsync("orders", "billing", SeekTarget.Earliest);
        await client.Admin.SeekAsync("orders", "billing", SeekTarget.ToOffset(1000, partition: 2));
        // </seek>
    }

    /// <summary>Prints the lag of a group per partition.</summary>
    public static async Task PrintLagAsync(GranaryClient client)
    {
        // <lag>
        GroupLag lag = await client.Admin.GetLagAsync("orders", "billing");
        foreach (var p in lag.Partitions)
            Console.WriteLine($"{p.Partition}: {p.Lag} unacked, oldest {p.OldestUnackedAge(DateTimeOffset.UtcNow)}, " +
                              $"in flight {p.InFlight}, expired {p.Expired}, dead-lettered {p.DeadLettered}, skipped {p.Skipped}");
        // </lag>
    }
}
