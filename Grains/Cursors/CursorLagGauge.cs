using Granary.Grains.Diagnostics;

namespace Granary.Grains.Cursors;

/// <summary>
/// Publishes one cursor's lag to the silo's consumer-lag gauge (<see cref="ConsumerLagRegistry"/>): the same count as
/// the group's lag query (end of the partition minus what is acknowledged), as of the last fetch, which is the last
/// time the cursor learnt the end. Not thread-safe: the grain calls it one turn at a time.
/// </summary>
internal sealed class CursorLagGauge(string topic, string group)
{
    private ConsumerLagSlot? _slot;
    private bool _closed;

    /// <summary>
    /// Publishes the lag; with the partition's end unknown (<see cref="long.MaxValue"/>, after a seek or a wake) the lag
    /// measured before no longer holds and is withdrawn until the next fetch.
    /// </summary>
    public void Report(long partitionEnd, long committed, long acknowledgedAbove)
    {
        // Gone or going: a call finishing after deactivation must not register a slot nobody disposes.
        if (_closed) return;
        if (partitionEnd == long.MaxValue)
        {
            _slot?.Forget();
            return;
        }
        (_slot ??= ConsumerLagRegistry.Register(topic, group)).Lag = partitionEnd - committed - acknowledgedAbove;
    }

    /// <summary>The lag was measured against a position the cursor left (a seek): withdrawn until the next fetch reports it.</summary>
    public void Forget() => _slot?.Forget();

    /// <summary>
    /// The cursor deactivates or is deleted: the slot goes, and nothing is published any more (the next activation,
    /// here or on another silo, reports this partition's lag from then on).
    /// </summary>
    public void Close()
    {
        _closed = true;
        _slot?.Dispose();
        _slot = null;
    }
}
