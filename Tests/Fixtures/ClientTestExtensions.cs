namespace Granary.Tests.Fixtures;

/// <summary>Shorthands for broker tests.</summary>
public static class ClientTestExtensions
{
    /// <summary>
    /// A lease no stall of a loaded machine can outlast: tests that assert each message arrives once, in order,
    /// use it, because a redelivery after an expired lease is correct (at-least-once) and would only make them flaky.
    /// </summary>
    public static readonly TimeSpan NoExpiry = TimeSpan.FromMinutes(10);

    /// <summary>True once the topic exists (dead-letter topics are created with their first letter).</summary>
    public static async Task<bool> TopicExistsAsync(this GranaryClient client, string topic) =>
        (await client.Admin.ListTopicsAsync()).Contains(topic);
}
