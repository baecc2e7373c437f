using System.IO.Hashing;

namespace Granary.Records;

/// <summary>The one CRC32C (Castagnoli) helper of the storage engine.</summary>
public static class Checksum
{
    /// <summary>Computes the CRC32C of <paramref name="data"/>.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data);
}
