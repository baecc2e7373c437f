namespace Granary.Grains;

/// <summary>One record leased to a group member.</summary>
/// <param name="Offset">The record's offset.</param>
/// <param name="Attempt">
/// 1 for the first delivery, raised on every redelivery after a nack, a lease expiry or a member leaving. A delivery
/// that the cursor took back to keep the order (an earlier message of the partition or key was nacked) does not
/// count: the message comes again with the same attempt number.
/// </param>
/// <param name="LeaseId">
/// Identifies this delivery's lease. Acks, nacks, rejects and lease extensions name it (<see cref="LeaseRef"/>), so
/// that one answering an older delivery of the same message is refused instead of settling the current holder's.
/// </param>
[GenerateSerializer, Immutable, Alias("granary.LeasedRecord")]
public readonly record struct LeasedRecord([property: Id(0)] long Offset, [property: Id(1)] int Attempt, [property: Id(2)] long LeaseId)
{
    /// <summary>This delivery as acks and nacks name it.</summary>
    public LeaseRef Ref => new(Offset, LeaseId);
}
