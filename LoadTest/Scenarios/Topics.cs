using Granary.Client;

namespace Granary.LoadTest.Scenarios;

internal static class Topics
{
    /// <summary>Creates the topic with <paramref name="partitions"/> partitions unless it exists (then it is used as it is).</summary>
    public static async Task EnsureAsync(GranaryClient client, string topic, int partitions)
    {
        try
        {
            await client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = partitions });
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicAlreadyExists)
        {
        }
    }
}
