namespace Granary.Grains.Partitions;

/// <summary>
/// Per-thread working memory of the append in progress: each record's message-id hash, whether it has one, and the
/// first index of each id within the batch. Per thread rather than per partition, so 10,000 idle partitions hold none
/// of it; valid because a partition fills and reads it within one synchronous stretch of its turn (no await between
/// the check of a batch and the last use of its ids), during which no other turn runs on the thread. Grown, never
/// shrunk below RetainedEntries: no allocation per append once the largest usual batch was seen on a thread.
/// </summary>
internal static class AppendScratch
{
    [ThreadStatic] private static UInt128[]? t_ids;
    [ThreadStatic] private static bool[]? t_hasId;
    [ThreadStatic] private static Dictionary<UInt128, int>? t_firstInBatch;

    /// <summary>Most entries a thread keeps between appends (~1 MB): a larger batch's scratch is dropped when the next begins.</summary>
    public const int RetainedEntries = 1 << 16;

    /// <summary>
    /// Starts the check of a new batch: scratch an earlier, exceptionally large batch grew beyond
    /// <see cref="RetainedEntries"/> is let go, so one huge batch does not pin its size on this thread for good.
    /// </summary>
    public static void Begin()
    {
        if (t_ids is { Length: > RetainedEntries })
        {
            t_ids = null;
            t_hasId = null;
        }
    }

    /// <summary>Message-id hashes, at least <paramref name="count"/> long (contents undefined until filled).</summary>
    public static UInt128[] Ids(int count)
    {
        if (t_ids is null || t_ids.Length < count) Grow(count);
        return t_ids!;
    }

    /// <summary>Whether record i has a message id, at least <paramref name="count"/> long (contents undefined until filled).</summary>
    public static bool[] HasId(int count)
    {
        if (t_hasId is null || t_hasId.Length < count) Grow(count);
        return t_hasId!;
    }

    /// <summary>An empty map from id hash to its first index in the batch.</summary>
    public static Dictionary<UInt128, int> FirstInBatch()
    {
        var map = t_firstInBatch ??= [];
        map.Clear();
        return map;
    }

    // Keeps what was filled so far: the check of a batch grows the scratch as it reads records (doubling), so memory
    // follows the records really there, never a count the batch merely claims.
    private static void Grow(int count)
    {
        int size = Math.Max(count, Math.Max(64, (int)Math.Min(Array.MaxLength, 2L * (t_ids?.Length ?? 0))));
        var ids = new UInt128[size];
        var hasId = new bool[size];
        t_ids?.CopyTo(ids, 0);
        t_hasId?.CopyTo(hasId, 0);
        t_ids = ids;
        t_hasId = hasId;
    }
}
