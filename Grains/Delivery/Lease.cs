namespace Granary.Grains.Delivery;

/// <summary>
/// A message leased to a member, in 40 bytes: no record bytes (a message that goes back without an ack is read again
/// from the partition, see <see cref="UnreadMessage"/>), the member as its number in the <see cref="MemberTable"/>,
/// and the message's offset implicit (the lease's slot in an <see cref="OffsetTable{T}"/>).
/// </summary>
internal readonly struct Lease
{
    // Longs first, then the two ints: no padding (40 bytes).
    private readonly long _id;
    private readonly long _expiresAtMs;
    private readonly long _messageExpiresAtMs;
    private readonly ulong _keyHash;
    private readonly int _attempt;
    // Member number << 1, plus 1 when the message has a key.
    private readonly int _memberAndKey;

    public Lease(long id, int member, long expiresAtMs, int attempt, long messageExpiresAtMs, bool hasKey, ulong keyHash)
    {
        _id = id;
        _expiresAtMs = expiresAtMs;
        _messageExpiresAtMs = messageExpiresAtMs;
        _keyHash = keyHash;
        _attempt = attempt;
        _memberAndKey = (member << 1) | (hasKey ? 1 : 0);
    }

    /// <summary>The delivery's lease id, unique per delivery of the cursor.</summary>
    public long Id => _id;
    /// <summary>When the lease runs out (Unix ms).</summary>
    public long ExpiresAtMs => _expiresAtMs;
    /// <summary>Which delivery of the message this is (1 for the first).</summary>
    public int Attempt => _attempt;
    /// <summary>Who holds it: a number of the cursor's <see cref="MemberTable"/>.</summary>
    public int Member => _memberAndKey >> 1;
    public bool HasKey => (_memberAndKey & 1) != 0;
    /// <summary>The message's key hash (see <see cref="Cursors.BufferedMessage.KeyHash"/>).</summary>
    public ulong KeyHash => _keyHash;
    /// <summary>True when the message itself expires (it has a time to live).</summary>
    public bool MessageExpires => _messageExpiresAtMs != long.MaxValue;

    /// <summary>This lease, ending at <paramref name="expiresAtMs"/> instead.</summary>
    public Lease ExtendedTo(long expiresAtMs) =>
        new(Id, Member, expiresAtMs, Attempt, _messageExpiresAtMs, HasKey, _keyHash);
}
