namespace Granary.Grains;

/// <summary>
/// What a pull leased to one member (<see cref="IPartitionCursorGrain.PullRunsAsync"/>), in the compact form: the
/// leased records copied verbatim from the stored batches, as in <see cref="PullResult"/>, with their leases as runs
/// instead of one <see cref="LeasedRecord"/> each. The i-th record of <see cref="Records"/> is the i-th delivery named
/// by <see cref="Runs"/> (runs in order, each run's deliveries in order); its attempt is the one
/// <see cref="Redeliveries"/> gives for its offset, else 1.
/// </summary>
/// <remarks>
/// A pull leases its records in offset order under consecutive lease ids, so a pull of consecutive offsets is one run
/// and the answer carries no object or array entry per message beyond the record bytes.
/// </remarks>
/// <param name="Partition">Partition number.</param>
/// <param name="Records">
/// Consecutive whole batches holding the leased records in offset order; in a rented array on the silo, given back to
/// the pool once serialized (<see cref="PulledBytes"/>).
/// </param>
/// <param name="Runs">The deliveries, in the order of <paramref name="Records"/>: offsets and lease ids both consecutive within a run.</param>
/// <param name="Redeliveries">The attempt of each delivery whose attempt is not 1, in offset order; empty for a pull of first deliveries.</param>
[GenerateSerializer, Immutable, Alias("granary.LeasedBatches")]
public sealed record LeasedBatches(
    [property: Id(0)] int Partition,
    [property: Id(1)] PulledBytes Records,
    [property: Id(2)] LeaseRun[] Runs,
    [property: Id(3)] LeaseAttempt[] Redeliveries)
{
    /// <summary>A pull that leased nothing.</summary>
    public static LeasedBatches Empty(int partition) => new(partition, PulledBytes.Empty, [], []);
}
