namespace Granary.Grains;

/// <summary>Where a follower's copy of a partition log stands.</summary>
/// <param name="StartOffset">First retained offset.</param>
/// <param name="EndOffset">Offset the next record gets; everything below it is durable.</param>
/// <param name="LastEpoch">The leader epoch that wrote the last records (0 when none).</param>
[GenerateSerializer, Immutable, Alias("granary.ReplicaState")]
public sealed record ReplicaState([property: Id(0)] long StartOffset, [property: Id(1)] long EndOffset, [property: Id(2)] long LastEpoch);

/// <summary>A leader epoch and where its records end in one copy.</summary>
[GenerateSerializer, Immutable, Alias("granary.EpochEnd")]
public sealed record EpochEnd([property: Id(0)] long Epoch, [property: Id(1)] long EndOffset);

/// <summary>Stored batches copied from a replica: all written by one leader epoch.</summary>
/// <param name="Epoch">The epoch that wrote them.</param>
/// <param name="Batches">Whole encoded batches, as stored.</param>
/// <param name="NextOffset">The offset after the last one.</param>
[GenerateSerializer, Immutable, Alias("granary.ReplicaRead")]
public sealed record ReplicaRead([property: Id(0)] long Epoch, [property: Id(1)] byte[] Batches, [property: Id(2)] long NextOffset);

/// <summary>
/// One silo's copy of a partition log in cluster mode. Key: <c>{topic}/{partition}/{node}</c>; it is always placed on
/// the silo named <c>node</c>, whose disk holds the copy. Only the partition's leader calls it, always with its
/// leader epoch: a call with an epoch below the highest one seen fails, so a deposed leader cannot write.
/// </summary>
[Alias("granary.IPartitionReplicaGrain")]
public interface IPartitionReplicaGrain : IGrainWithStringKey
{
    /// <summary>Accepts <paramref name="leaderEpoch"/> as the current leader's and reports where the copy stands.</summary>
    [Alias("Fence")] Task<ReplicaState> FenceAsync(long leaderEpoch);

    /// <summary>
    /// Appends batches the leader stored at <paramref name="baseOffset"/>, written by <paramref name="batchEpoch"/>,
    /// and returns once they are stored under the topic's flush policy. When the copy does not end at
    /// <paramref name="baseOffset"/> nothing is written and the state tells the leader where it does. Empty
    /// <paramref name="batches"/> at the end record that <paramref name="batchEpoch"/> writes from there on (the new
    /// leader's epoch marker).
    /// </summary>
    [Alias("Append")] Task<ReplicaState> AppendAsync(long leaderEpoch, long batchEpoch, long baseOffset, [Immutable] byte[] batches);

    /// <summary>Empties the copy and makes it start at <paramref name="offset"/> (the leader no longer retains what it lacks).</summary>
    [Alias("Reset")] Task<ReplicaState> ResetAsync(long leaderEpoch, long offset);

    /// <summary>
    /// This copy's latest epoch at or below <paramref name="epoch"/> and where its records end here (Kafka's
    /// OffsetsForLeaderEpoch): a copy whose last epoch is <paramref name="epoch"/> agrees with this one below the
    /// smaller of that end and its own end of the returned epoch.
    /// </summary>
    [Alias("EndOfEpoch")] Task<EpochEnd> EndOfEpochAsync(long leaderEpoch, long epoch);

    /// <summary>
    /// Cuts this copy where it stops agreeing with the leader, given the leader's <see cref="EndOfEpochAsync"/>
    /// answer for this copy's last epoch; a copy that agrees on nothing it retains is emptied.
    /// </summary>
    [Alias("TruncateToAgreement")] Task<ReplicaState> TruncateToAgreementAsync(long leaderEpoch, EpochEnd leaderEnd);

    /// <summary>Stored batches from <paramref name="fromOffset"/>, up to about <paramref name="maxBytes"/>, all of one epoch.</summary>
    [Alias("Read")] Task<ReplicaRead> ReadAsync(long leaderEpoch, long fromOffset, int maxBytes);

    /// <summary>Closes and deletes the copy of the topic's <paramref name="incarnation"/> (the topic is being deleted, or the replica moved).</summary>
    [Alias("Delete")] Task DeleteAsync(string? incarnation);

    /// <summary>The topic's settings changed: an open copy applies the new retention limits now.</summary>
    [Alias("ApplyConfig")] Task ApplyConfigAsync(TopicConfig config);
}
