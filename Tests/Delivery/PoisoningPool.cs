using System.Buffers;

namespace Granary.Tests.DeliveryRules;

/// <summary>
/// An <see cref="ArrayPool{T}"/> for fetched buffers that catches a buffer given back too early: every returned array is
/// filled with <see cref="Poison"/> at once (as if the pool's next renter wrote into it), so a delivery or dead letter
/// still reading it sees garbage instead of its record. A second return, or the return of an array it never rented,
/// throws. Never hands an array out twice.
/// </summary>
internal sealed class PoisoningPool : ArrayPool<byte>
{
    public const byte Poison = 0xDE;
    private readonly HashSet<byte[]> _outstanding = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _lock = new();

    /// <summary>Arrays rented and not returned yet.</summary>
    public int Outstanding
    {
        get
        {
            lock (_lock) return _outstanding.Count;
        }
    }

    /// <summary>Arrays returned so far.</summary>
    public int Returned { get; private set; }

    public override byte[] Rent(int minimumLength)
    {
        var array = new byte[minimumLength];
        lock (_lock) _outstanding.Add(array);
        return array;
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        lock (_lock)
        {
            if (!_outstanding.Remove(array)) throw new InvalidOperationException("An array was returned twice, or was never rented here.");
            Returned++;
        }
        array.AsSpan().Fill(Poison);
    }

    /// <summary>
    /// A pooled copy of <paramref name="batches"/>, as the partition's read hands it over; claimed by the caller unless
    /// <paramref name="claim"/> is false (then for a fetch result to hand on).
    /// </summary>
    public (FetchedBuffer Buffer, ReadOnlyMemory<byte> Bytes) Fetched(ReadOnlySpan<byte> batches, bool claim = true)
    {
        var array = Rent(batches.Length);
        batches.CopyTo(array);
        var buffer = new FetchedBuffer(array, this);
        if (claim) Assert.True(buffer.TryClaim());
        return (buffer, array.AsMemory(0, batches.Length));
    }
}
