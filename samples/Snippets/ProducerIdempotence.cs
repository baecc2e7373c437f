using Granary.Client;

namespace Granary.Samples.Snippets;

/// <summary>README: Idempotent producers and message-id deduplication.</summary>
public static class ProducerIdempotence
{
    /// <summary>A send that retries without storing the message twice.</summary>
    public static async Task<SendReceipt> SendOnceAsync(GranaryClient client, byte[] payload)
    {
        // <idempotent-producer>
        await using var producer = client.CreateProducer("orders");          // EnableIdempotence = true by default
        SendReceipt receipt = await producer.SendAsync(new OutgoingMessage(payload) { Key = "order-42" });
        // A timeout or lost connection is retried (MaxRetries) without storing the message twice.
        // </idempotent-producer>
        return receipt;
    }

    /// <summary>The same message id sent twice within the topic's dedup window.</summary>
    public static async Task<bool> SendTwiceAsync(GranaryClient client, GranaryProducer producer, byte[] body)
    {
        // <dedup-window>
        await client.Admin.CreateTopicAsync("payments", new TopicOptions { Partitions = 4, DedupWindow = TimeSpan.FromMinutes(10) });
        var first  = await producer.SendAsync(new OutgoingMessage(body) { MessageId = "payment-1" });
        var repeat = await producer.SendAsync(new OutgoingMessage(body) { MessageId = "payment-1" });
        // repeat.IsDuplicate == true, repeat.Offset == first.Offset; consumers receive it once.
        // </dedup-window>
        return repeat.IsDuplicate && repeat.Offset == first.Offset;
    }
}
