namespace Granary.Grains.Diagnostics;

/// <summary>One cursor's lag in the <see cref="ConsumerLagRegistry"/>; written by the cursor, read by the gauge.</summary>
internal sealed class ConsumerLagSlot(string topic, string group) : IDisposable
{
    private long _lag = -1;

    public string Topic { get; } = topic;
    public string Group { get; } = group;

    /// <summary>Messages of the partition not acknowledged by the group; -1 until first measured.</summary>
    public long Lag
    {
        get => Volatile.Read(ref _lag);
        set => Volatile.Write(ref _lag, Math.Max(0, value));
    }

    /// <summary>The lag is unknown again (the cursor moved and has not learnt the partition's end yet): not reported until measured.</summary>
    public void Forget() => Volatile.Write(ref _lag, -1);

    public void Dispose() => ConsumerLagRegistry.Remove(this);
}
