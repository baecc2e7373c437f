using Granary.Client;

namespace Granary.Samples.Snippets;

/// <summary>README: Failures and dead letters.</summary>
public static class DeadLetters
{
    /// <summary>The three ways to settle a message other than acking it (a handler picks one).</summary>
    public static async Task SettleAsync(ReceivedMessage message)
    {
        // <settle-message>
        await message.NackAsync(TimeSpan.FromSeconds(30));      // retry later
        await message.ExtendLeaseAsync(TimeSpan.FromMinutes(5)); // long work: keep the lease
        await message.RejectAsync();                             // poison: to the dead-letter topic now
        // </settle-message>
    }

    /// <summary>Publishes dead letters of the group "billing" again.</summary>
    public static async Task RedriveAsync(GranaryClient client)
    {
        // <redrive>
        int count = await client.Admin.RedriveAsync("orders", "billing");              // all
        int some = await client.Admin.RedriveAsync("orders", "billing", fromOffset: 100, toOffset: 200);
        // </redrive>
        Console.WriteLine($"redriven: {count}, then {some}");
    }
}
