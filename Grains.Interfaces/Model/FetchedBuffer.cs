using System.Buffers;

namespace Granary.Grains;

/// <summary>
/// The pooled array a fetch's batches are in, handed by the partition to the cursor that fetched them instead of a copy
/// per fetch. It goes back to its pool once nothing reads it any more: a reference count, one reference per holder
/// (the cursor's fetch while it looks at the records, each buffered message over it), and the array returns when the
/// last one is released.
/// </summary>
/// <remarks>
/// Ownership moves exactly once: the <see cref="FetchResult"/> holds the first reference, and <see cref="TryClaim"/>
/// gives it to one caller only. A result nobody claims (an admin listing, a redrive, a result serialized to another
/// process) is never returned to the pool: its array is left to the garbage collector, which is always safe. Returning
/// an array while anything still reads it would hand its bytes to the pool's next renter and corrupt deliveries, so a
/// release past zero or a reference taken after the return throws instead of going on. Thread-safe counts.
/// </remarks>
internal sealed class FetchedBuffer
{
    private readonly ArrayPool<byte> _pool;
    private byte[]? _array;
    private int _references = 1;
    private int _claimed;

    /// <summary>Takes <paramref name="array"/>, rented from <paramref name="pool"/> (the shared pool when null), with one reference.</summary>
    public FetchedBuffer(byte[] array, ArrayPool<byte>? pool = null)
    {
        _array = array;
        _pool = pool ?? ArrayPool<byte>.Shared;
    }

    /// <summary>True once the array went back to its pool: nothing may read it then.</summary>
    public bool IsReturned => Volatile.Read(ref _array) is null;

    /// <summary>References held now (0 once returned).</summary>
    public int References => Volatile.Read(ref _references);

    /// <summary>
    /// Takes the first reference (the one the fetch result holds): true for the first caller only, who must
    /// <see cref="Release"/> it once done.
    /// </summary>
    public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

    /// <summary>One more holder (a message kept over the buffer); the caller holds a reference already.</summary>
    /// <exception cref="InvalidOperationException">The array went back to the pool already.</exception>
    public void AddReference()
    {
        int references;
        do
        {
            references = Volatile.Read(ref _references);
            if (references <= 0) throw new InvalidOperationException("A fetched buffer was referenced after it went back to the pool.");
        }
        while (Interlocked.CompareExchange(ref _references, references + 1, references) != references);
    }

    /// <summary>A holder is done with the buffer; the last one returns the array to its pool.</summary>
    /// <exception cref="InvalidOperationException">More releases than references.</exception>
    public void Release()
    {
        int left = Interlocked.Decrement(ref _references);
        if (left > 0) return;
        if (left < 0) throw new InvalidOperationException("A fetched buffer was released more often than it was referenced.");
        var array = Interlocked.Exchange(ref _array, null);
        if (array is null) return;
        _pool.Return(array);
    }
}
