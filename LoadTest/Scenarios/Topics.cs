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

    /// <summary>
    /// The topic (or Redis stream) a <c>--warmup</c> phase uses for <paramref name="topic"/>: <c>{topic}-warmup</c>, so that the
    /// warm-up's messages never count in the measured topic and a later <c>consume --warmup</c> finds them.
    /// </summary>
    public static string WarmupName(string topic) => $"{topic}-warmup";
}
