namespace Granary.Grains.Partitions;

/// <summary>
/// Which messages of a batch are message-id duplicates and, once the stored ones have offsets, the offset of each:
/// a duplicate reports the offset of the copy that was stored (earlier, or earlier in the same batch).
/// </summary>
internal sealed class DuplicatePlan
{
    private readonly int[] _copyOf;

    public DuplicatePlan(int count)
    {
        IsDuplicate = new bool[count];
        Offsets = new long[count];
        _copyOf = new int[count];
        Array.Fill(_copyOf, -1);
    }

    public bool[] IsDuplicate { get; }

    public long[] Offsets { get; }

    public int StoredCount => IsDuplicate.Count(d => !d);

    /// <summary>Message <paramref name="index"/> repeats one stored earlier at <paramref name="offset"/>.</summary>
    public void MarkStoredEarlier(int index, long offset)
    {
        IsDuplicate[index] = true;
        Offsets[index] = offset;
    }

    /// <summary>Message <paramref name="index"/> repeats message <paramref name="first"/> of the same batch.</summary>
    public void MarkCopyOf(int index, int first)
    {
        IsDuplicate[index] = true;
        _copyOf[index] = first;
    }

    /// <summary>Gives the stored messages consecutive offsets from <paramref name="baseOffset"/> and their copies the same.</summary>
    public void AssignOffsets(long baseOffset)
    {
        long next = baseOffset;
        for (int i = 0; i < Offsets.Length; i++)
        {
            if (!IsDuplicate[i]) Offsets[i] = next++;
            else if (_copyOf[i] >= 0) Offsets[i] = Offsets[_copyOf[i]]; // the first copy comes earlier, so it has its offset
        }
    }

    public AppendResult ToResult(long timestampMs)
    {
        int firstStored = Array.IndexOf(IsDuplicate, false);
        return new AppendResult(Offsets[firstStored < 0 ? 0 : firstStored], Offsets.Length, timestampMs)
        {
            Offsets = Offsets,
            Duplicates = IsDuplicate,
        };
    }
}
