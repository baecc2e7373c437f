using System.Text;
using Granary.Records;

namespace Granary.Grains;

/// <summary>
/// Encodes <see cref="Message"/>s as the records of a <see cref="ProduceBatch"/>, the way a partition expects them:
/// every record's timestamp is the encoder's clock (timestamp delta 0; the partition replaces the time), a time to live
/// becomes the expiry delta and a deliver-at a delay from that clock, so the broker's clock decides when, not the
/// sender's.
/// </summary>
public static class ProduceBatchEncoder
{
    /// <summary>
    /// Adds <paramref name="message"/> to <paramref name="builder"/> as a record stamped <paramref name="nowMs"/>, with
    /// <paramref name="producerId"/> and <paramref name="sequence"/> when <paramref name="producerId"/> is not 0.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidArgument"/>: a header name is null or not valid UTF-16.</exception>
    public static void Add(RecordBatchBuilder builder, Message message, long nowMs, long producerId, int sequence)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(message);
        RecordHeader[]? headers = null;
        if (message.Headers is { Length: > 0 } source)
        {
            headers = new RecordHeader[source.Length];
            for (int h = 0; h < source.Length; h++)
            {
                if (source[h]?.Name is not { } name) throw new GranaryException(GranaryErrorCode.InvalidArgument, "A header name must not be null.");
                headers[h] = new RecordHeader(name, source[h].Value ?? []);
            }
        }
        try
        {
            builder.Add(new LogRecord(message.Payload)
            {
                Key = message.Key,
                Headers = headers,
                TimestampMs = nowMs,
                ExpiresAtMs = message.TimeToLiveMs is { } ttl ? nowMs + Math.Max(0, ttl) : null,
                DeliverAtMs = message.DeliverAtMs is { } at && at > nowMs ? at : null,
                ProducerId = producerId != 0 ? producerId : null,
                Sequence = producerId != 0 ? sequence : 0,
            });
        }
        catch (EncoderFallbackException e)
        {
            throw new GranaryException(GranaryErrorCode.InvalidArgument, "A header name is not valid UTF-16 (a lone surrogate).", e);
        }
    }

    /// <summary>
    /// Encodes <paramref name="messages"/> into a new array (for cold paths: dead letters, redrive, tools, tests). No
    /// messages gives an empty batch, which the partition refuses.
    /// </summary>
    public static ProduceBatch Encode(IReadOnlyList<Message> messages, long producerId = 0, int baseSequence = 0, Acks acks = Acks.All)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0) return new ProduceBatch(ReadOnlyMemory<byte>.Empty, 0) { ProducerId = producerId, BaseSequence = baseSequence, Acks = acks };
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var builder = new RecordBatchBuilder();
        for (int i = 0; i < messages.Count; i++) Add(builder, messages[i], now, producerId, unchecked(baseSequence + i));
        return new ProduceBatch(builder.Build().ToArray(), messages.Count) { ProducerId = producerId, BaseSequence = baseSequence, Acks = acks };
    }
}

/// <summary>Appends of object-model batches: the cold paths' way to a partition.</summary>
public static class PartitionAppends
{
    /// <summary>Encodes <paramref name="batch"/> (see <see cref="ProduceBatchEncoder.Encode"/>) and appends it.</summary>
    public static Task<AppendResult> AppendAsync(this IPartitionGrain partition, MessageBatch batch)
    {
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(batch);
        return partition.AppendAsync(ProduceBatchEncoder.Encode(batch.Messages, batch.ProducerId, batch.BaseSequence, batch.Acks));
    }
}
