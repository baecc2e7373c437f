using System.Globalization;
using System.Text;
using Granary.Grains.Cursors;
using Granary.Records;

namespace Granary.Grains.ConsumerGroups;

// Redrive: dead letters back to where they came from, for this group only.
internal sealed partial class ConsumerGroupGrain
{
    private const int RedrivePageMessages = 1000;

    public async Task<int> RedriveAsync(long fromOffset, long toOffset)
    {
        EnsureExists();
        if (fromOffset < 0 || toOffset < fromOffset)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"[{fromOffset}, {toOffset}) is not a valid offset range.");
        string dlq = state.State.Settings.DeadLetterTopicOf(_topic, _group);
        TopicConfig dlqConfig;
        try
        {
            dlqConfig = await GrainFactory.GetGrain<ITopicGrain>(dlq).GetConfigAsync();
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicNotFound)
        {
            return 0; // nothing was ever dead-lettered
        }
        int sourcePartitions = (await TopicGrain.GetConfigAsync()).Partitions;
        var counts = await Task.WhenAll(Enumerable.Range(0, dlqConfig.Partitions)
            .Select(p => RedrivePartitionAsync(GrainFactory.GetGrain<IPartitionGrain>(GrainKeys.Partition(dlq, p)), fromOffset, toOffset, sourcePartitions)));
        return counts.Sum();
    }

    /// <summary>
    /// Reads one dead-letter partition page by page and appends each page's letters of this group to their source
    /// partitions before reading on. An interrupted redrive can be run again; it re-publishes the range again.
    /// </summary>
    private async Task<int> RedrivePartitionAsync(IPartitionGrain dlqPartition, long fromOffset, long toOffset, int sourcePartitions)
    {
        int count = 0;
        long offset = fromOffset;
        while (offset < toOffset)
        {
            var page = await dlqPartition.FetchAsync(offset, RedrivePageMessages, TimeSpan.Zero);
            // Cold path: the letters are decoded (slices of the page's buffer) to be published again.
            var letters = StoredBatches.Read(page.Batches, page.FromOffset, Math.Min(page.NextOffset, toOffset))
                .Select(r => r.Record).Where(IsOurs).ToList();
            var bySource = letters.GroupBy(m => Math.Clamp(SourcePartitionOf(m), 0, sourcePartitions - 1));
            await Task.WhenAll(bySource.Select(g => PartitionGrain(g.Key).AppendAsync(new MessageBatch(g.Select(Redriven).ToArray()))));
            count += letters.Count;
            if (page.IsEmpty || page.NextOffset <= offset) break;
            offset = page.NextOffset;
        }
        return count;
    }

    private bool IsOurs(StoredRecord letter) =>
        HeaderText(letter, GranaryHeaders.SourceGroup) == _group && HeaderText(letter, GranaryHeaders.SourceTopic) == _topic;

    private static int SourcePartitionOf(StoredRecord letter) =>
        int.TryParse(HeaderText(letter, GranaryHeaders.SourcePartition), NumberStyles.None, CultureInfo.InvariantCulture, out int partition) ? partition : 0;

    private static string? HeaderText(in StoredRecord letter, string name) =>
        StoredBatches.TryGetHeader(letter, StoredBatches.NameBytes(name), out var value) ? Encoding.UTF8.GetString(value) : null;

    private Message Redriven(StoredRecord letter)
    {
        var headers = letter.GetHeaders().Where(h => !PartitionCursorGrain.IsProvenanceHeader(h.Name)).Select(h => new MessageHeader(h.Name, h.Value.ToArray())).ToList();
        headers.Add(new MessageHeader(GranaryHeaders.RedriveGroup, Encoding.UTF8.GetBytes(_group)));
        return new Message(letter.Key?.ToArray(), letter.Payload, [.. headers]);
    }
}
