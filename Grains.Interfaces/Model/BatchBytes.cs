using System.Buffers;

namespace Granary.Grains;

/// <summary>
/// The encoded records of a <see cref="ProduceBatch"/>, and who owns the array they are in. Bytes a caller gives
/// (<see cref="BatchBytes(ReadOnlyMemory{byte})"/>) stay the caller's. Bytes received from another process are read by
/// <see cref="BatchBytesCodec"/> into an array rented from <see cref="ArrayPool{T}.Shared"/> rather than a new array per
/// call; the receiver hands that array back with <see cref="ReturnToPool"/> once nothing reads the bytes any more.
/// </summary>
/// <remarks>
/// Immutable for Orleans (sealed, no copy): a call inside one silo passes the same instance, so the callee sees the
/// caller's bytes, never a rented array, and returning it is a no-op.
/// </remarks>
[Immutable]
public sealed class BatchBytes
{
    private static long s_outstanding;
    private byte[]? _rented;

    /// <summary>Bytes the caller owns; <see cref="ReturnToPool"/> never returns them anywhere.</summary>
    public BatchBytes(ReadOnlyMemory<byte> memory) => Memory = memory;

    private BatchBytes(byte[] rented, int length)
    {
        _rented = rented;
        Memory = rented.AsMemory(0, length);
    }

    /// <summary>The encoded batch.</summary>
    public ReadOnlyMemory<byte> Memory { get; }

    /// <summary>Whether the bytes are in a rented array that has not been returned yet.</summary>
    public bool IsRented => Volatile.Read(ref _rented) is not null;

    /// <summary>Rented arrays not returned yet, in this process (for tests: every received batch goes back once).</summary>
    internal static long Outstanding => Volatile.Read(ref s_outstanding);

    /// <summary>
    /// Returns the rented array to the pool, the first time only: returns true then, false when the bytes were never
    /// rented or were returned already. After it returned true, <see cref="Memory"/> must not be read or written: the
    /// pool hands the array to its next renter.
    /// </summary>
    public bool ReturnToPool()
    {
        var rented = Interlocked.Exchange(ref _rented, null);
        if (rented is null) return false;
        ArrayPool<byte>.Shared.Return(rented);
        Interlocked.Decrement(ref s_outstanding);
        return true;
    }

    /// <summary>A rented array of at least <paramref name="length"/> bytes, to be filled through <paramref name="bytes"/>.</summary>
    internal static BatchBytes Rent(int length, out Span<byte> bytes)
    {
        if (length == 0)
        {
            bytes = [];
            return new BatchBytes(ReadOnlyMemory<byte>.Empty);
        }
        var rented = ArrayPool<byte>.Shared.Rent(length);
        Interlocked.Increment(ref s_outstanding);
        bytes = rented.AsSpan(0, length);
        return new BatchBytes(rented, length);
    }
}
