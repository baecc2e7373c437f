using Granary.Client;

namespace Granary.Samples.Snippets;

/// <summary>README: Delivery modes.</summary>
public static class DeliveryModes
{
    /// <summary>Joins the group "billing" as a member of a key-shared group.</summary>
    public static async Task JoinKeySharedAsync(GranaryClient client)
    {
        // <key-shared-consumer>
        await using var consumer = client.CreateConsumer("orders", "billing", new ConsumerOptions { Mode = DeliveryMode.KeyShared });
        // </key-shared-consumer>
    }
}
