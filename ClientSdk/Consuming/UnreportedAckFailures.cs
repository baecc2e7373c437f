namespace Granary.Client;

/// <summary>
/// The queued acks that failed since a flush last reported them, kept in constant memory however long nobody flushes:
/// a count per error code and the first few as (partition, offset, attempt, code). It never keeps the message (a
/// <see cref="ReceivedMessage"/> is a view over its whole pull buffer, which would stay alive with it).
/// </summary>
internal sealed class UnreportedAckFailures
{
    /// <summary>How many failures a report names; the rest are counted.</summary>
    public const int Named = 10;

    private readonly Lock _gate = new();
    private readonly List<AckFailure> _first = [];
    private readonly Dictionary<GranaryErrorCode, long> _perCode = [];
    private GranaryException? _firstError;
    private long _count;

    /// <summary>One failed queued ack, without its message.</summary>
    public readonly record struct AckFailure(int Partition, long Offset, int Attempt, GranaryErrorCode Code);

    /// <summary>Failures not reported yet.</summary>
    public long Count
    {
        get { lock (_gate) return _count; }
    }

    /// <summary>Records a failure.</summary>
    public void Add(AckFailure failure, GranaryException error)
    {
        lock (_gate)
        {
            _count++;
            _perCode[failure.Code] = _perCode.GetValueOrDefault(failure.Code) + 1;
            if (_first.Count < Named) _first.Add(failure);
            _firstError ??= error;
        }
    }

    /// <summary>
    /// Takes every failure recorded so far and describes them as one error, or null when there were none. The code is
    /// <see cref="GranaryErrorCode.StaleDelivery"/> (not retriable) whatever the causes: none of these acks was taken and none
    /// will be sent again, so retrying the flush cannot help; each message is handled again (its new holder has it, or
    /// it comes again when its lease ends). The causes are named in the text, and the first one is the inner exception.
    /// </summary>
    public GranaryException? TakeReport(string topic, string group)
    {
        AckFailure[] first;
        KeyValuePair<GranaryErrorCode, long>[] perCode;
        long count;
        GranaryException? firstError;
        lock (_gate)
        {
            if (_count == 0) return null;
            (first, perCode, count, firstError) = ([.. _first], [.. _perCode], _count, _firstError);
            _first.Clear();
            _perCode.Clear();
            _count = 0;
            _firstError = null;
        }
        string named = string.Join(", ", first.Select(f => $"{f.Partition}/{f.Offset} (attempt {f.Attempt}, {f.Code})"));
        string causes = string.Join(", ", perCode.OrderBy(c => c.Key).Select(c => $"{c.Value} {c.Key}"));
        bool lost = perCode.Any(c => c.Key != GranaryErrorCode.StaleDelivery);
        return new GranaryException(GranaryErrorCode.StaleDelivery,
            $"{count} queued ack(s) of topic '{topic}', group '{group}' were not taken ({causes}): {named}{(count > first.Length ? ", ..." : "")}. " +
            "A refused (StaleDelivery) message may be handled again by its new holder" +
            (lost ? "; an ack whose calls kept failing was lost (it is not sent again) and its message comes again when its lease ends." : "."),
            firstError);
    }
}
