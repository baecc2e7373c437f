using Granary.Grains;
using Granary.Records;

namespace Granary.Client;

/// <summary>
/// Reads a pull's answer (<see cref="PullResult"/>): checks every batch (length, format version, CRC, record bounds)
/// and that its records are exactly the leased ones, in order. A short, damaged or forged answer is refused with
/// <see cref="GranaryErrorCode.CorruptData"/>, never misread.
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

    private static GranaryException Corrupt(PullResult pull, string reason, Exception? inner) =>
        new(GranaryErrorCode.CorruptData, $"The broker's answer to a pull of partition {pull.Partition} is malformed ({reason}); its messages are delivered again once their leases end.", inner);
}
