namespace Granary.Grains.ConsumerGroups;

/// <summary>
/// The partition → member assignment of an Ordered group. Sticky: a partition stays with its owner while that owner
/// is a member and under its quota, so a join or leave moves only what balancing needs (a moved partition waits for
/// its old owner's leases to end before the new owner takes anything). Balanced: every member owns
/// ⌊partitions / members⌋ or one more.
/// </summary>
internal static class OrderedAssignment
{
    public static Dictionary<int, string> Assign(IReadOnlyDictionary<int, string> previous, IReadOnlyCollection<string> members, int partitions)
    {
        var assignment = new Dictionary<int, string>();
        if (members.Count == 0) return assignment;
        var owned = members.ToDictionary(m => m, _ => new List<int>(), StringComparer.Ordinal);
        for (int p = 0; p < partitions; p++)
        {
            if (previous.TryGetValue(p, out var owner) && owned.TryGetValue(owner, out var list)) list.Add(p);
        }
        // The members that already own the most keep the larger quotas, so fewer partitions move.
        int baseQuota = partitions / members.Count, larger = partitions % members.Count;
        var quota = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var member in owned.Keys.OrderByDescending(m => owned[m].Count).ThenBy(m => m, StringComparer.Ordinal))
            quota[member] = baseQuota + (larger-- > 0 ? 1 : 0);
        var free = new List<int>();
        foreach (var (member, list) in owned)
        {
            while (list.Count > quota[member])
            {
                free.Add(list[^1]);
                list.RemoveAt(list.Count - 1);
            }
        }
        var taken = owned.Values.SelectMany(l => l).ToHashSet();
        free.AddRange(Enumerable.Range(0, partitions).Where(p => !taken.Contains(p) && !free.Contains(p)));
        free.Sort();
        foreach (int p in free)
        {
            var member = owned.Keys.Where(m => owned[m].Count < quota[m])
                .OrderBy(m => owned[m].Count).ThenBy(m => m, StringComparer.Ordinal).First();
            owned[member].Add(p);
        }
        foreach (var (member, list) in owned)
        {
            foreach (int p in list) assignment[p] = member;
        }
        return assignment;
    }
}
