namespace Granary.LoadTest.Scenarios;

/// <summary>
/// Counts a verify run: messages are numbered 0 to N-1; each can be confirmed (stored, per the broker) and received
/// any number of times. Lost: confirmed and never received. Duplicated: receptions beyond the first. Unexpected: a
/// received number that was never sent. Thread-safe.
/// </summary>
internal sealed class VerifyChecker(long messages)
{
    private readonly bool[] _confirmed = new bool[messages];
    private readonly int[] _received = new int[messages];
    private readonly Lock _gate = new();
    private long _unexpected;

    public void Confirmed(long id)
    {
        lock (_gate)
        {
            if (id >= 0 && id < messages) _confirmed[id] = true;
        }
    }

    public void Received(long id)
    {
        lock (_gate)
        {
            if (id >= 0 && id < messages) _received[id]++;
            else _unexpected++;
        }
    }

    /// <summary>True once every confirmed message was received at least once.</summary>
    public bool AllConfirmedReceived
    {
        get
        {
            lock (_gate)
            {
                for (long i = 0; i < messages; i++) if (_confirmed[i] && _received[i] == 0) return false;
                return true;
            }
        }
    }

    public VerifyCounts Counts()
    {
        lock (_gate)
        {
            long confirmed = 0, received = 0, lost = 0, duplicated = 0;
            for (long i = 0; i < messages; i++)
            {
                if (_confirmed[i]) confirmed++;
                if (_received[i] > 0) received++;
                if (_confirmed[i] && _received[i] == 0) lost++;
                if (_received[i] > 1) duplicated += _received[i] - 1;
            }
            return new VerifyCounts(messages, confirmed, received, lost, duplicated, _unexpected);
        }
    }
}

/// <summary>The outcome of a verify run; <see cref="Passed"/> when nothing confirmed was lost and nothing unexpected arrived.</summary>
internal sealed record VerifyCounts(long Sent, long Confirmed, long Received, long Lost, long Duplicated, long Unexpected)
{
    public bool Passed => Lost == 0 && Unexpected == 0;

    public IReadOnlyDictionary<string, long> ToDictionary() => new Dictionary<string, long>
    {
        ["sent"] = Sent,
        ["confirmed"] = Confirmed,
        ["received"] = Received,
        ["lost"] = Lost,
        ["duplicated"] = Duplicated,
        ["unexpected"] = Unexpected,
    };
}
