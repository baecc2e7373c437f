namespace Granary.Grains.Delivery;

/// <summary>
/// Members that left a cursor, with when: their late pulls are refused (a member that comes back joins under a new
/// id). A departure is forgotten after <see cref="Memory"/>, so that the set does not grow with every member ever seen.
/// Not thread-safe.
/// </summary>
internal sealed class DepartedMembers(TimeProvider time)
{
    /// <summary>How long a departure is remembered.</summary>
    public static readonly TimeSpan Memory = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, DateTimeOffset> _departed = [];

    public bool Contains(string member) => _departed.ContainsKey(member);

    /// <summary>Refuses <paramref name="member"/> from now on; forgets members that left longer than <see cref="Memory"/> ago.</summary>
    public void Add(string member)
    {
        var now = time.GetUtcNow();
        foreach (var old in _departed.Where(d => now - d.Value > Memory).Select(d => d.Key).ToList()) _departed.Remove(old);
        _departed[member] = now;
    }
}
