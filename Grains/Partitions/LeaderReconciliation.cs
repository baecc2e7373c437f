namespace Granary.Grains.Partitions;

/// <summary>
/// The rules a replicated partition's new leader follows before it takes appends: which epoch it takes, whether enough
/// of the previous replica holders answered for it to hold every committed record, which copy it must agree with, and
/// when it should hand leadership over. Pure decisions on what the grain gathered (the fencing calls, the stored
/// leader state and the cluster view stay with the grain).
/// </summary>
internal static class LeaderReconciliation
{
    /// <summary>
    /// The epoch a new leader takes: above the one stored in the leader state and above any a replica of the local log
    /// was promised, so that every older leader is fenced off.
    /// </summary>
    public static long NextEpoch(long storedEpoch, long promisedEpoch) => Math.Max(storedEpoch, promisedEpoch) + 1;

    /// <summary>
    /// Whether enough of the <paramref name="previousHolders"/> are reachable (this node counts) for one of them to hold
    /// every committed record: a committed record is on <paramref name="minReplicas"/> holders, so at most
    /// <c>holders - minReplicas</c> of them may be missing. A partition that never had holders is new: true.
    /// </summary>
    public static bool EnoughHoldersReachable(IReadOnlyCollection<string> previousHolders, string self,
        IReadOnlySet<string> reachable, int minReplicas, out int reachableCount)
    {
        reachableCount = previousHolders.Count(n => n == self || reachable.Contains(n));
        return previousHolders.Count == 0 || reachableCount >= previousHolders.Count - minReplicas + 1;
    }

    /// <summary>
    /// The copy the leader must agree with: the most advanced one, by last epoch, then by end offset (it holds every
    /// committed record). The local copy wins ties, so the leader copies only when another is strictly ahead.
    /// </summary>
    public static (string Node, ReplicaState State) MostAdvanced(string self, ReplicaState local, IEnumerable<KeyValuePair<string, ReplicaState>> reachable) =>
        reachable.Aggregate((Node: self, State: local), (best, next) =>
            (next.Value.LastEpoch, next.Value.EndOffset).CompareTo((best.State.LastEpoch, best.State.EndOffset)) > 0 ? (next.Key, next.Value) : best);

    /// <summary>
    /// Whether the leader should hand over (deactivate, so the next call activates it where it belongs): the placement
    /// now puts the partition elsewhere, or the replica set it should have is not the one it started with.
    /// </summary>
    public static bool ShouldHandOver(bool placedElsewhere, IEnumerable<string> wantedFollowers, IEnumerable<string> currentFollowers) =>
        placedElsewhere || !wantedFollowers.Order(StringComparer.Ordinal).SequenceEqual(currentFollowers.Order(StringComparer.Ordinal), StringComparer.Ordinal);
}
