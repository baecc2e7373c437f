using System.IO.Hashing;
using System.Text;
using Granary.Grains.Delivery;
using Granary.Records;

namespace Granary.Grains.Cursors;

/// <summary>
/// Writes a cursor's dead letters to the dead-letter topic (creating it when missing), each with the headers that
/// tell its story: reason, attempts, when, and where it came from. Decoding happens only here (a cold path).
/// </summary>
internal sealed class DeadLetterWriter(IGrainFactory grains, TimeProvider time, string topic, string group, int partition)
{
    /// <summary>Appends <paramref name="letters"/> to <paramref name="deadLetterTopic"/>, spread over its partitions by key.</summary>
    public async Task WriteAsync(string deadLetterTopic, List<DeadLetter> letters)
    {
        var topicGrain = grains.GetGrain<ITopicGrain>(deadLetterTopic);
        TopicConfig config;
        try
        {
            config = await topicGrain.GetConfigAsync();
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicNotFound)
        {
            try
            {
                // Room for the largest message any topic accepts, so that no dead letter is too large for it.
                await topicGrain.CreateAsync(new TopicConfig { MaxMessageBytes = 64 << 20 });
            }
            catch (GranaryException c) when (c.Code == GranaryErrorCode.TopicAlreadyExists)
            {
            }
            config = await topicGrain.GetConfigAsync();
        }
        long nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var decoded = letters.Select(l => (Letter: l, Record: l.Message.Decode())).ToList();
        var byPartition = decoded.GroupBy(l => l.Record.Key is { } key
            ? (int)(XxHash32.HashToUInt32(key.Span) % (uint)config.Partitions)
            : (int)(l.Letter.Message.Offset % config.Partitions));
        await Task.WhenAll(byPartition.Select(p => AppendAsync(grains.GetGrain<IPartitionGrain>(GrainKeys.Partition(deadLetterTopic, p.Key)),
            [.. p.Select(l => ToMessage(l.Letter, l.Record, nowMs))])));
    }

    /// <summary>
    /// Appends to one dead-letter partition. A letter too large for the dead-letter topic (its own limit, plus the
    /// headers added here) goes without its payload, marked so, rather than blocking every letter behind it.
    /// </summary>
    private static async Task AppendAsync(IPartitionGrain partition, Message[] letters)
    {
        try
        {
            await partition.AppendAsync(new MessageBatch(letters));
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.MessageTooLarge)
        {
            foreach (var letter in letters)
            {
                try
                {
                    await partition.AppendAsync(new MessageBatch([letter]));
                }
                catch (GranaryException single) when (single.Code == GranaryErrorCode.MessageTooLarge)
                {
                    // Key, payload and the sender's headers go; Granary's own headers (the letter's story) stay.
                    var story = (letter.Headers ?? []).Where(h => h.Name.StartsWith("granary.", StringComparison.Ordinal))
                        .Append(Header(GranaryHeaders.DeadLetterPayloadDropped, letter.Payload.Length));
                    await partition.AppendAsync(new MessageBatch([new Message(null, ReadOnlyMemory<byte>.Empty, [.. story])]));
                }
            }
        }
    }

    private Message ToMessage(DeadLetter letter, StoredRecord source, long nowMs)
    {
        var headers = source.GetHeaders().Where(h => !IsProvenanceHeader(h.Name)).Select(h => new MessageHeader(h.Name, h.Value.ToArray())).ToList();
        headers.Add(Header(GranaryHeaders.DeadLetterReason, letter.Reason));
        headers.Add(Header(GranaryHeaders.DeadLetterAttempts, letter.Attempts));
        headers.Add(Header(GranaryHeaders.DeadLetteredAt, nowMs));
        headers.Add(Header(GranaryHeaders.SourceTopic, topic));
        headers.Add(Header(GranaryHeaders.SourcePartition, partition));
        headers.Add(Header(GranaryHeaders.SourceOffset, source.Offset));
        headers.Add(Header(GranaryHeaders.SourceTimestamp, source.TimestampMs));
        headers.Add(Header(GranaryHeaders.SourceGroup, group));
        return new Message(source.Key?.ToArray(), source.Payload, [.. headers]);
    }

    /// <summary>Headers a dead letter or redrive adds; a message that travels again gets fresh ones.</summary>
    internal static bool IsProvenanceHeader(string name) =>
        name.StartsWith("granary.dlq.", StringComparison.Ordinal) || name.StartsWith("granary.source.", StringComparison.Ordinal)
        || name == GranaryHeaders.RedriveGroup;

    private static MessageHeader Header(string name, string value) => new(name, Encoding.UTF8.GetBytes(value));

    private static MessageHeader Header(string name, long value) => Header(name, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
