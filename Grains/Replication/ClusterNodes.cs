namespace Granary.Grains.Replication;

/// <summary>
/// The silos of the cluster by node name (Orleans' silo name, <c>Granary:NodeName</c>): a replica lives on a named
/// node, because the node's disk holds it, whatever address the silo has after a restart.
/// </summary>
internal sealed class ClusterNodes(IClusterMembershipService membership, ILocalSiloDetails local)
{
    /// <summary>This silo's node name.</summary>
    public string LocalName => local.Name;

    /// <summary>This silo's address.</summary>
    public SiloAddress LocalAddress => local.SiloAddress;

    /// <summary>Active silos, by node name (ordinal order); a name seen twice keeps its newest silo.</summary>
    public SortedDictionary<string, SiloAddress> Active()
    {
        var nodes = new SortedDictionary<string, SiloAddress>(StringComparer.Ordinal);
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status != SiloStatus.Active) continue;
            if (!nodes.TryGetValue(member.Name, out var seen) || seen.Generation < member.SiloAddress.Generation) nodes[member.Name] = member.SiloAddress;
        }
        return nodes;
    }

    /// <summary>
    /// The nodes that should hold a partition led from <paramref name="leader"/>: the leader and the next
    /// <paramref name="count"/> - 1 active nodes after it in name order (wrapping), so replicas spread evenly.
    /// </summary>
    public List<string> ReplicasFor(string leader, int count)
    {
        var names = Active().Keys.ToList();
        if (!names.Contains(leader, StringComparer.Ordinal)) names.Add(leader);
        names.Sort(StringComparer.Ordinal);
        int start = names.IndexOf(leader);
        return Enumerable.Range(0, Math.Min(count, names.Count)).Select(i => names[(start + i) % names.Count]).ToList();
    }
}
