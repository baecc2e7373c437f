using System.Diagnostics;
using System.Diagnostics.Metrics;
using TagList = System.Diagnostics.TagList;

namespace Granary.Grains.Diagnostics;

/// <summary>
/// The lag of the partition cursors active in this process, read by the <c>granary.consumer.lag</c> gauge. Each
/// cursor owns one <see cref="ConsumerLagSlot"/> while it is active and writes its lag there whenever it learns it
/// (a fetch tells the partition's end, an ack moves the committed offset); the gauge sums the slots per topic and
/// group when it is observed. A cursor lives on one silo at a time, so summing the silos' series gives the group's lag.
/// </summary>
/// <remarks>
/// Process-wide, like the meter: silos sharing a process (the in-process test cluster) report together. Thread-safe.
/// </remarks>
internal static class ConsumerLagRegistry
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<ConsumerLagSlot> Slots = [];

    /// <summary>A slot for one cursor; dispose it when the cursor deactivates.</summary>
    public static ConsumerLagSlot Register(string topic, string group)
    {
        var slot = new ConsumerLagSlot(topic, group);
        lock (Gate) Slots.Add(slot);
        return slot;
    }

    internal static void Remove(ConsumerLagSlot slot)
    {
        lock (Gate) Slots.Remove(slot);
    }

    /// <summary>The gauge's callback: one measurement per topic and group with a known lag.</summary>
    internal static IEnumerable<Measurement<long>> Observe()
    {
        Dictionary<(string Topic, string Group), long> sums = [];
        lock (Gate)
        {
            foreach (var slot in Slots)
            {
                long lag = slot.Lag;
                if (lag < 0) continue; // not measured yet
                var key = (slot.Topic, slot.Group);
                sums[key] = sums.GetValueOrDefault(key) + lag;
            }
        }
        var measurements = new List<Measurement<long>>(sums.Count);
        foreach (var ((topic, group), lag) in sums)
            measurements.Add(new Measurement<long>(lag, new TagList { { GranaryMetrics.TopicTag, topic }, { GranaryMetrics.GroupTag, group } }));
        return measurements;
    }
}
