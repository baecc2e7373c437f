using System.Buffers;

namespace Granary.Grains;

/// <summary>
/// The records of a pull's answer (<see cref="LeasedBatches.Records"/>), and who owns the array they are in. The cursor
/// writes an answer into an array rented from <see cref="ArrayPool{T}.Shared"/> (<see cref="Rent"/>);
/// <see cref="PulledBytesCodec"/> gives it back once it has copied the bytes into the outgoing message, so a pull costs
/// the silo no new array. Bytes read from the wire, or given by a caller, are the reader's own and never pooled.
/// </summary>
/// <remarks>
/// Ownership passes exactly once: either to the serializer (remote caller), which returns the array after writing it,
/// or to a caller in the same silo, which gets this very instance (immutable for Orleans: no copy) and keeps the array;
/// nothing returns it then, and it falls to the garbage collector. Orleans writes a message body once (a send that
/// fails after writing is dropped or answered with an error, never written again); should a second write ever come, it
/// fails with <see cref="ObjectDisposedException"/> before writing anything, rather than send what the pool's next
/// renter wrote.
/// </remarks>
[Immutable]
public sealed class PulledBytes
{
    private static long s_outstanding;
    private readonly ReadOnlyMemory<byte> _memory;
    private byte[]? _rented;
    private int _returned;

    /// <summary>Bytes the caller owns; never returned to any pool.</summary>
    public PulledBytes(ReadOnlyMemory<byte> memory) => _memory = memory;

    private PulledBytes(byte[] rented, int length)
    {
        _rented = rented;
        _memory = rented.AsMemory(0, length);
    }

    /// <summary>No bytes.</summary>
    public static PulledBytes Empty { get; } = new(ReadOnlyMemory<byte>.Empty);

    /// <summary>The answer's records: consecutive whole batches.</summary>
    /// <exception cref="ObjectDisposedException">The bytes were rented and have gone back to the pool (after being serialized).</exception>
    public ReadOnlyMemory<byte> Memory => Volatile.Read(ref _returned) == 0
        ? _memory
        : throw new ObjectDisposedException(nameof(PulledBytes), "A pull answer's bytes were read after they went back to the pool.");

    /// <summary>Number of bytes (readable after the bytes went back to the pool).</summary>
    public int Length => _memory.Length;

    /// <summary>Whether the bytes are in a rented array that has not gone back to the pool.</summary>
    public bool IsRented => Volatile.Read(ref _rented) is not null;

    /// <summary>Rented arrays not returned yet, in this process (for tests).</summary>
    internal static long Outstanding => Volatile.Read(ref s_outstanding);

    /// <summary>
    /// A rented array of at least <paramref name="length"/> bytes for an answer, to be filled through
    /// <paramref name="bytes"/> before the answer leaves the grain.
    /// </summary>
    public static PulledBytes Rent(int length, out Span<byte> bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
        {
            bytes = [];
            return Empty;
        }
        var rented = ArrayPool<byte>.Shared.Rent(length);
        Interlocked.Increment(ref s_outstanding);
        bytes = rented.AsSpan(0, length);
        return new PulledBytes(rented, length);
    }

    /// <summary>
    /// Gives the rented array back to the pool, the first time only: true then; false when the bytes were never rented
    /// or went back already. From then on <see cref="Memory"/> throws: the pool hands the array to its next renter.
    /// </summary>
    internal bool ReturnToPool()
    {
        if (Volatile.Read(ref _rented) is null) return false;
        Volatile.Write(ref _returned, 1); // before the array leaves: no read of Memory starts after this
        var rented = Interlocked.Exchange(ref _rented, null);
        if (rented is null) return false;
        ArrayPool<byte>.Shared.Return(rented);
        Interlocked.Decrement(ref s_outstanding);
        return true;
    }
}
