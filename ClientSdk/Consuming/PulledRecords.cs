using Granary.Grains;
using Granary.Records;

namespace Granary.Client;

/// <summary>
/// Reads a pull's answer (<see cref="LeasedBatches"/>, or <see cref="PullResult"/> of the earlier form): checks every
/// batch (length, format version, CRC, record bounds) and that its records are exactly the leased ones, in order. A
/// short, damaged or forged answer is refused with <see cref="GranaryErrorCode.CorruptData"/>, never misread.
/// </summary>
internal static class PulledRecords
{
    /// <summary>The leased records with their leases; key, headers and payload are slices of the answer's buffer.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.CorruptData"/> when the answer does not decode to its leases.</exception>
    public static List<(StoredRecord Record, LeasedRecord Lease)> Read(PullResult pull)
    {
        var leases = pull.Leases ?? [];
        var result = new List<(StoredRecord, LeasedRecord)>(leases.Length);
        try
        {
            foreach (var batch in StoredBatches.Split(pull.Records))
            {
                if (RecordBatchCodec.Validate(batch.Span, batch.Length) is { } reason) throw new InvalidDataException(reason);
                foreach (var record in new RecordBatch(batch))
                {
                    if (result.Count == leases.Length) throw new InvalidDataException($"more records than the {leases.Length} leased");
                    var lease = leases[result.Count];
                    if (record.Offset != lease.Offset) throw new InvalidDataException($"record {record.Offset} where the lease names {lease.Offset}");
                    result.Add((record, lease));
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            throw Corrupt(pull, e.Message, e);
        }
        if (result.Count != leases.Length) throw Corrupt(pull, $"{result.Count} records for {leases.Length} leases", null);
        return result;
    }

    /// <summary>
    /// The leased records of a compact answer (<see cref="LeasedBatches"/>) with their leases, expanded from its runs and
    /// redeliveries; key, headers and payload are slices of the answer's buffer.
    /// </summary>
    /// <exception cref="GranaryException">
    /// <see cref="GranaryErrorCode.CorruptData"/> when the answer does not decode to its leases: records and runs
    /// disagree (offsets, counts), a run is empty or overflows, or a redelivery is out of order, names no record of the
    /// answer, or gives an attempt below 2.
    /// </exception>
    public static List<(StoredRecord Record, LeasedRecord Lease)> Read(LeasedBatches pull)
    {
        var runs = pull.Runs ?? [];
        var redeliveries = pull.Redeliveries ?? [];
        var records = pull.Records?.Memory ?? ReadOnlyMemory<byte>.Empty;
        var result = new List<(StoredRecord, LeasedRecord)>(ExpectedCount(pull, runs));
        int run = 0, inRun = 0, redelivery = 0;
        try
        {
            foreach (var batch in StoredBatches.Split(records))
            {
                if (RecordBatchCodec.Validate(batch.Span, batch.Length) is { } reason) throw new InvalidDataException(reason);
                foreach (var record in new RecordBatch(batch))
                {
                    if (run == runs.Length) throw new InvalidDataException($"more records than the {result.Count} leased");
                    var current = runs[run];
                    long offset = current.Offset + inRun;
                    if (record.Offset != offset) throw new InvalidDataException($"record {record.Offset} where the lease names {offset}");
                    int attempt = 1;
                    if (redelivery < redeliveries.Length && redeliveries[redelivery].Offset == offset)
                    {
                        attempt = redeliveries[redelivery++].Attempt;
                        if (attempt < 2) throw new InvalidDataException($"attempt {attempt} given as a redelivery of offset {offset}");
                    }
                    result.Add((record, new LeasedRecord(offset, attempt, current.LeaseId + inRun)));
                    if (++inRun == current.Count)
                    {
                        run++;
                        inRun = 0;
                    }
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            throw Corrupt(pull.Partition, e.Message, e);
        }
        if (run != runs.Length) throw Corrupt(pull.Partition, $"{result.Count} records for {ExpectedCount(pull, runs)} leases", null);
        if (redelivery != redeliveries.Length)
            throw Corrupt(pull.Partition, $"a redelivery of offset {redeliveries[redelivery].Offset}, not a record of the answer or out of order", null);
        return result;
    }

    /// <summary>How many deliveries <paramref name="runs"/> name; refuses an empty or overflowing run before anything is read.</summary>
    private static int ExpectedCount(LeasedBatches pull, LeaseRun[] runs)
    {
        long total = 0;
        foreach (var run in runs)
        {
            if (run.Count < 1 || run.Offset < 0 || run.Offset > long.MaxValue - run.Count || run.LeaseId > long.MaxValue - run.Count)
                throw Corrupt(pull.Partition, $"a run of {run.Count} from offset {run.Offset}, lease {run.LeaseId}", null);
            total += run.Count;
            // Each delivery is a record of at least a few bytes in the answer: more than its bytes cannot be true.
            if (total > (pull.Records?.Length ?? 0)) throw Corrupt(pull.Partition, $"runs naming more deliveries ({total}+) than the answer's {(pull.Records?.Length ?? 0)} bytes hold", null);
        }
        return (int)total;
    }

    private static GranaryException Corrupt(PullResult pull, string reason, Exception? inner) => Corrupt(pull.Partition, reason, inner);

    private static GranaryException Corrupt(int partition, string reason, Exception? inner) =>
        new(GranaryErrorCode.CorruptData, $"The broker's answer to a pull of partition {partition} is malformed ({reason}); its messages are delivered again once their leases end.", inner);
}
