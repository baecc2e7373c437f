using Granary.Grains.Diagnostics;

namespace Granary.Grains.Cursors;

/// <summary>
/// How old a pull's messages are when its answer is written, for <c>granary.delivery.delay</c> (the oldest, once per
/// pull) and <c>granary.delivery.age</c> (the sum over the pull's messages, for a mean per message): the consume side of
/// a message's latency, from the broker timestamp the partition stamps at append (before the write and its fsync) to
/// the answer that carries it. First deliveries only: a redelivery's age counts its earlier leases, which is not
/// delivery latency. A delayed message counts from its deliver-at time, when it became deliverable.
/// </summary>
/// <remarks>
/// One pass over the pull's leases, only while something listens; one histogram observation and two counter adds per
/// pull, never one per message. Whole milliseconds on both sides, as the stamp is: the difference of two truncated
/// times is right on average (the stamp's truncation and the clock's cancel out), where the clock in full precision
/// against a truncated stamp would read half a millisecond high. Each single age is off by up to a millisecond.
/// </remarks>
internal static class PullAnswerAge
{
    /// <summary>Records the ages of the first deliveries among <paramref name="messages"/>, leased as <paramref name="leases"/> (same order).</summary>
    public static void Record(string topic, string group, TimeProvider time, ReadOnlySpan<BufferedMessage> messages, ReadOnlySpan<LeasedRecord> leases)
    {
        if (!GranaryMetrics.DeliveryDelayEnabled) return;
        long nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        long oldestMs = 0, summedMs = 0;
        int count = 0;
        for (int i = 0; i < leases.Length; i++)
        {
            if (leases[i].Attempt != 1) continue;
            var message = messages[i];
            long deliverableMs = message.IsDelayed ? Math.Max(message.TimestampMs, message.DeliverAtMs) : message.TimestampMs;
            // A clock set back since the stamp reads as no delay, never a negative one.
            long ageMs = Math.Max(0, nowMs - deliverableMs);
            oldestMs = Math.Max(oldestMs, ageMs);
            summedMs += ageMs;
            count++;
        }
        if (count > 0) GranaryMetrics.RecordDeliveryDelay(topic, group, oldestMs, summedMs, count);
    }
}
