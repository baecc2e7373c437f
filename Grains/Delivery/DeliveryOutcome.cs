namespace Granary.Grains.Delivery;

/// <summary>
/// What the cursor grain must do after <see cref="DeliveryState"/> changed, gathered since it was last asked
/// (<see cref="DeliveryState.TakeOutcome"/>): the state decides, the grain does the Orleans and I/O work.
/// </summary>
internal struct DeliveryOutcome
{
    /// <summary>Something a waiting pull may take now (ready messages came, or a key or partition was freed).</summary>
    public bool Available;
    /// <summary>The persisted part of the state changed: save it.</summary>
    public bool Changed;
    /// <summary>Something waits on the clock (a lease, a delay, a dead letter): the periodic tick must run.</summary>
    public bool NeedsTick;
    /// <summary>Dead letters are queued: write them.</summary>
    public bool DeadLettersQueued;
    /// <summary>The committed offset or the acknowledged set changed: the lag changed.</summary>
    public bool CommittedMoved;
    /// <summary>A fetched message expires or is delayed: keep reading ahead so its time is noticed.</summary>
    public bool TimedMessagesFetched;
    /// <summary>
    /// Messages went back without their record bytes: read the partition from <see cref="DeliveryState.RefillFrom"/>
    /// so that they can go out again.
    /// </summary>
    public bool RefillNeeded;
    /// <summary>Expired messages dropped (not dead-lettered) now, for the expired counter.</summary>
    public int ExpiredDropped;
    /// <summary>Messages leased by a pull, their payload bytes and how many of them were redeliveries.</summary>
    public int Delivered, Redelivered;
    /// <summary>Payload bytes of <see cref="Delivered"/>.</summary>
    public long DeliveredBytes;
    /// <summary>Set when retention deleted messages the group had not acknowledged: how many (may be 0).</summary>
    public long? RetentionSkipped;
    /// <summary>Set when the partition reported records lost: how many unacknowledged messages were skipped.</summary>
    public long? LostSkipped;
}
