namespace Granary.Grains.ConsumerGroups;

/// <summary>
/// The members of one consumer group and when each was last heard from (a join or a heartbeat). A member not heard
/// from for longer than the session timeout has lost its session: the group lets it go as if it had left.
/// Elapsed time is read from the clock's monotonic timestamp, so a jump of the wall clock neither drops every member
/// nor keeps a dead one. Not thread-safe: the group grain's turns serialize the calls.
/// </summary>
internal sealed class MemberSessions
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _sessionTimeout;
    // member id → timestamp (TimeProvider.GetTimestamp) of its last join or heartbeat
    private readonly Dictionary<string, long> _lastHeard = new(StringComparer.Ordinal);

    /// <param name="time">The broker clock.</param>
    /// <param name="sessionTimeout">How long a member may stay silent before its session ends; positive.</param>
    public MemberSessions(TimeProvider time, TimeSpan sessionTimeout)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(sessionTimeout, TimeSpan.Zero);
        _time = time;
        _sessionTimeout = sessionTimeout;
    }

    /// <summary>How many members have a session.</summary>
    public int Count => _lastHeard.Count;

    /// <summary>The ids of the members with a session, in no particular order.</summary>
    public IReadOnlyCollection<string> Members => _lastHeard.Keys;

    /// <summary>Whether <paramref name="memberId"/> has a session.</summary>
    public bool Contains(string memberId) => _lastHeard.ContainsKey(memberId);

    /// <summary>A join: starts the member's session, or renews it if it has one.</summary>
    public void Join(string memberId) => _lastHeard[memberId] = _time.GetTimestamp();

    /// <summary>A heartbeat: renews the member's session; false (and nothing renewed) when it has none to renew.</summary>
    public bool TryRenew(string memberId)
    {
        if (!_lastHeard.ContainsKey(memberId)) return false;
        _lastHeard[memberId] = _time.GetTimestamp();
        return true;
    }

    /// <summary>Ends the member's session (it left); false when it had none.</summary>
    public bool Remove(string memberId) => _lastHeard.Remove(memberId);

    /// <summary>Ends every session.</summary>
    public void Clear() => _lastHeard.Clear();

    /// <summary>
    /// The members silent for longer than the session timeout. They keep their sessions until removed, so the caller
    /// can release what they hold first.
    /// </summary>
    public List<string> Expired()
    {
        long now = _time.GetTimestamp();
        var expired = new List<string>();
        foreach (var (member, lastHeard) in _lastHeard)
        {
            if (_time.GetElapsedTime(lastHeard, now) > _sessionTimeout) expired.Add(member);
        }
        return expired;
    }
}
