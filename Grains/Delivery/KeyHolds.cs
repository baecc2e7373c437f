namespace Granary.Grains.Delivery;

/// <summary>
/// KeyShared: which member holds a key's messages, and how many of them, by the key's 64-bit hash. A collision only
/// makes two keys share a hold, which is safe (their messages go to one member at a time, in order). Not thread-safe.
/// </summary>
internal sealed class KeyHolds
{
    private readonly Dictionary<ulong, Hold> _holds = [];

    private struct Hold(string member)
    {
        public readonly string Member = member;
        public int Count;
    }

    /// <summary>Holds that members have now (for tests and diagnostics).</summary>
    public int Count => _holds.Count;

    /// <summary>True when a member other than <paramref name="member"/> holds <paramref name="key"/>.</summary>
    public bool IsHeldByAnother(ulong key, string member) => _holds.TryGetValue(key, out var hold) && hold.Member != member;

    /// <summary>One more message of <paramref name="key"/> leased to <paramref name="member"/> (who holds it or takes it now).</summary>
    public void Add(ulong key, string member)
    {
        ref var hold = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_holds, key, out bool exists);
        if (!exists) hold = new Hold(member);
        hold.Count++;
    }

    /// <summary>One lease of <paramref name="key"/> ended; the key is free when it was the last one.</summary>
    public void Remove(ulong key)
    {
        ref var hold = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_holds, key);
        if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref hold)) return;
        if (--hold.Count <= 0) _holds.Remove(key);
    }

    public void Clear() => _holds.Clear();
}
