namespace Granary.Grains;

/// <summary>
/// The attempt number of one record in a <see cref="LeasedBatches"/> answer, given only where it is not 1 (a
/// redelivery): a first delivery, by far the most common, costs the answer nothing.
/// </summary>
/// <param name="Offset">The record's offset.</param>
/// <param name="Attempt">Its attempt number, 2 or more (see <see cref="LeasedRecord.Attempt"/>).</param>
[GenerateSerializer, Immutable, Alias("granary.LeaseAttempt")]
public readonly record struct LeaseAttempt([property: Id(0)] long Offset, [property: Id(1)] int Attempt);
