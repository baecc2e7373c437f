using System.Runtime.CompilerServices;

namespace Granary.Records;

/// <summary>LEB128 variable-length integers with zigzag encoding for signed values (as Kafka's record format).</summary>
internal static class VarInt
{
    public const int MaxLength64 = 10;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Write(Span<byte> destination, long value)
    {
        ulong v = (ulong)((value << 1) ^ (value >> 63));
        int i = 0;
        while (v >= 0x80)
        {
            destination[i++] = (byte)(v | 0x80);
            v >>= 7;
        }
        destination[i++] = (byte)v;
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SizeOf(long value)
    {
        ulong v = (ulong)((value << 1) ^ (value >> 63));
        int size = 1;
        while (v >= 0x80) { v >>= 7; size++; }
        return size;
    }

    /// <summary>Reads a zigzag varint; false when the input ends early or the value is longer than 10 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> source, ref int position, out long value)
    {
        ulong result = 0;
        int shift = 0;
        for (int i = 0; i < MaxLength64; i++)
        {
            if ((uint)position >= (uint)source.Length) break;
            byte b = source[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                value = (long)(result >> 1) ^ -(long)(result & 1);
                return true;
            }
            shift += 7;
        }
        value = 0;
        return false;
    }
}
