using Granary.Client;

namespace Granary.Samples.Snippets;

/// <summary>README: TTL (message expiry) and delayed delivery.</summary>
public static class MessageExpiry
{
    /// <summary>A topic whose messages expire after 5 minutes, and a message that expires sooner.</summary>
    public static async Task ExpireAsync(GranaryClient client, GranaryProducer producer, byte[] body)
    {
        // <ttl>
        await client.Admin.CreateTopicAsync("quotes", new TopicOptions { DefaultTimeToLive = TimeSpan.FromMinutes(5) });
        await producer.SendAsync(new OutgoingMessage(body) { TimeToLive = TimeSpan.FromSeconds(30) }); // per message
        // </ttl>
    }

    /// <summary>Messages delivered later.</summary>
    public static async Task DelayAsync(GranaryProducer producer, byte[] body, DateTimeOffset tomorrowMorning)
    {
        // <delayed-delivery>
        await producer.SendAsync(new OutgoingMessage(body) { Delay = TimeSpan.FromMinutes(10) });
        await producer.SendAsync(new OutgoingMessage(body) { DeliverAt = tomorrowMorning });
        // </delayed-delivery>
    }
}
