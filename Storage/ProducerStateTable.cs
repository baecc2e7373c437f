namespace Granary.Storage;

/// <summary>
/// The idempotent producers a partition knows: per producer the last sequence processed and its last few batches,
/// so that a retried batch is recognised and answered with where it landed the first time. Not thread-safe: the
/// owner of the log serialises every use (the partition grain's turns).
/// </summary>
/// <typeparam name="TResult">The answer the first append of a batch gave, which a retry made while this process
/// remembers it gets again (the broker's append result; the storage engine only keeps it).</typeparam>
internal sealed class ProducerStateTable<TResult>
{
    private readonly Dictionary<long, Producer> _producers = [];

    /// <summary>Raised by every change, so a snapshot can tell whether it is stale.</summary>
    public long Version { get; private set; }

    public int Count => _producers.Count;

    /// <summary>
    /// Classifies a batch of <paramref name="count"/> messages from sequence <paramref name="baseSequence"/>. A batch
    /// is never split or merged between retries, so one that overlaps sequences already processed is a retry of a
    /// whole batch that was processed; its sequences then count as processed even when the log shows fewer of them
    /// (its last messages may have been message-id duplicates that were not stored).
    /// </summary>
    public SequenceCheck Check(long producerId, int baseSequence, int count, out ProducerBatch<TResult>? original)
    {
        original = null;
        if (!_producers.TryGetValue(producerId, out var producer)) return SequenceCheck.Accept;
        if (baseSequence == producer.LastSequence + 1) return SequenceCheck.Accept;
        if (baseSequence > producer.LastSequence + 1) return SequenceCheck.OutOfOrder;
        int last = baseSequence + count - 1;
        foreach (var batch in producer.Batches)
        {
            if (batch.Info.BaseSequence <= last && baseSequence <= batch.Info.LastSequence)
            {
                original = batch;
                if (last > producer.LastSequence)
                {
                    producer.LastSequence = last;
                    Version++;
                }
                return SequenceCheck.Duplicate;
            }
        }
        return SequenceCheck.TooOld;
    }

    /// <summary>Records a batch handed to the log (first stored offset -1 when every message was a duplicate).</summary>
    public ProducerBatch<TResult> Record(long producerId, int baseSequence, int count, long baseOffset, long timestampMs)
    {
        var batch = new ProducerBatch<TResult>(new ProducerBatchInfo(baseSequence, count, baseOffset, timestampMs), pending: true);
        Add(producerId, batch, timestampMs);
        return batch;
    }

    /// <summary>Records the producer records of one stored log batch found by a scan.</summary>
    public void RecordScanned(long producerId, int firstSequence, int lastSequence, long firstOffset, long timestampMs)
    {
        if (_producers.TryGetValue(producerId, out var known) && lastSequence <= known.LastSequence) return; // reflected already
        Add(producerId, new ProducerBatch<TResult>(new ProducerBatchInfo(firstSequence, lastSequence - firstSequence + 1, firstOffset, timestampMs), pending: false), timestampMs);
    }

    /// <summary>Forgets producers not heard from since <paramref name="oldestMs"/>.</summary>
    public int ExpireIdle(long oldestMs)
    {
        var idle = _producers.Values.Where(p => p.LastSeenMs < oldestMs).Select(p => p.Id).ToList();
        foreach (long id in idle) _producers.Remove(id);
        if (idle.Count > 0) Version++;
        return idle.Count;
    }

    public ProducerStateSnapshot ToSnapshot(long coveredOffset) => new(coveredOffset,
        _producers.Values.Select(p => new ProducerStateEntry(p.Id, p.LastSequence, p.LastSeenMs, p.Batches.Select(b => b.Info).ToArray())).ToList());

    public void Load(ProducerStateSnapshot snapshot)
    {
        _producers.Clear();
        foreach (var entry in snapshot.Producers)
        {
            var producer = new Producer(entry.ProducerId) { LastSequence = entry.LastSequence, LastSeenMs = entry.LastSeenMs };
            foreach (var info in entry.Batches) producer.Batches.Enqueue(new ProducerBatch<TResult>(info, pending: false));
            _producers[entry.ProducerId] = producer;
        }
        Version++;
    }

    private void Add(long producerId, ProducerBatch<TResult> batch, long timestampMs)
    {
        if (!_producers.TryGetValue(producerId, out var producer)) _producers[producerId] = producer = new Producer(producerId);
        producer.LastSequence = Math.Max(producer.LastSequence, batch.Info.LastSequence);
        producer.LastSeenMs = Math.Max(producer.LastSeenMs, timestampMs);
        if (producer.Batches.Count == ProducerStateSnapshot.MaxBatchesPerProducer) producer.Batches.Dequeue();
        producer.Batches.Enqueue(batch);
        Version++;
    }

    private sealed class Producer(long id)
    {
        public long Id { get; } = id;
        public int LastSequence { get; set; } = -1;
        public long LastSeenMs { get; set; }
        public Queue<ProducerBatch<TResult>> Batches { get; } = new();
    }
}
