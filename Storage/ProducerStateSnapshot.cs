using Granary.Records;
using System.Buffers.Binary;

namespace Granary.Storage;

/// <summary>
/// The idempotent-producer table of a partition as of log offset <see cref="CoveredOffset"/>: every record below it is
/// reflected, so opening the partition loads this and scans the log only from there. It also holds what the log cannot
/// tell (a batch whose last messages were dropped as message-id duplicates still advanced its producer's sequence).
/// File <c>producer-state</c> in the partition directory, replaced atomically (temp file, fsync, rename, directory
/// fsync). Layout (little-endian):
/// <code>magic:uint32 "GPST" | version:uint16 | reserved:uint16 | coveredOffset:int64 | producerCount:int32 |
/// producerCount x (producerId:int64 | lastSequence:int32 | lastSeenMs:int64 | batchCount:uint8 |
///                  batchCount x (baseSequence:int32 | count:int32 | baseOffset:int64 | timestampMs:int64)) |
/// crc32c:uint32 of every byte before it</code>
/// </summary>
public sealed class ProducerStateSnapshot
{
    /// <summary>File name in the partition directory.</summary>
    public const string FileName = "producer-state";

    /// <summary>Most batches kept per producer.</summary>
    public const int MaxBatchesPerProducer = 8;

    private const uint Magic = 0x54535047; // "GPST"
    private const ushort Version = 1;
    private const int HeaderSize = 20;
    private const int ProducerSize = 21;
    private const int BatchSize = 24;

    /// <summary>Creates a snapshot.</summary>
    public ProducerStateSnapshot(long coveredOffset, IReadOnlyList<ProducerStateEntry> producers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(coveredOffset);
        ArgumentNullException.ThrowIfNull(producers);
        CoveredOffset = coveredOffset;
        Producers = producers;
    }

    /// <summary>Every log record below this offset is reflected in <see cref="Producers"/>.</summary>
    public long CoveredOffset { get; }

    /// <summary>The producers.</summary>
    public IReadOnlyList<ProducerStateEntry> Producers { get; }

    /// <summary>Path of the snapshot file of a partition directory.</summary>
    public static string PathIn(string directory) => Path.Combine(directory, FileName);

    /// <summary>Reads the snapshot of <paramref name="directory"/>; null (and why, unless it is simply absent) when it is missing or damaged.</summary>
    public static ProducerStateSnapshot? TryRead(string directory, out string? problem)
    {
        problem = null;
        byte[] bytes;
        try
        {
            string path = PathIn(directory);
            if (!File.Exists(path)) return null;
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
            return null;
        }
        var result = TryDecode(bytes, out problem);
        return result;
    }

    /// <summary>Decodes an encoded snapshot; null (and why) when the bytes are damaged.</summary>
    public static ProducerStateSnapshot? TryDecode(ReadOnlySpan<byte> bytes, out string? problem)
    {
        problem = "producer-state file is damaged";
        if (bytes.Length < HeaderSize + 4
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]) != Checksum.Crc32C(bytes[..^4]))
            return null;
        if (BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]) != Version)
        {
            problem = "producer-state file has an unknown format version";
            return null;
        }
        long covered = BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(bytes[16..]);
        var body = bytes[HeaderSize..^4];
        if (covered < 0 || count < 0 || count > body.Length / ProducerSize) return null;
        var producers = new List<ProducerStateEntry>(count);
        int p = 0;
        for (int i = 0; i < count; i++)
        {
            if (body.Length - p < ProducerSize) return null;
            long id = BinaryPrimitives.ReadInt64LittleEndian(body[p..]);
            int last = BinaryPrimitives.ReadInt32LittleEndian(body[(p + 8)..]);
            long seen = BinaryPrimitives.ReadInt64LittleEndian(body[(p + 12)..]);
            int batchCount = body[p + 20];
            p += ProducerSize;
            if (id == 0 || batchCount > MaxBatchesPerProducer || body.Length - p < batchCount * BatchSize) return null;
            var batches = new ProducerBatchInfo[batchCount];
            for (int b = 0; b < batchCount; b++, p += BatchSize)
            {
                batches[b] = new ProducerBatchInfo(
                    BinaryPrimitives.ReadInt32LittleEndian(body[p..]),
                    BinaryPrimitives.ReadInt32LittleEndian(body[(p + 4)..]),
                    BinaryPrimitives.ReadInt64LittleEndian(body[(p + 8)..]),
                    BinaryPrimitives.ReadInt64LittleEndian(body[(p + 16)..]));
            }
            producers.Add(new ProducerStateEntry(id, last, seen, batches));
        }
        if (p != body.Length) return null;
        problem = null;
        return new ProducerStateSnapshot(covered, producers);
    }

    /// <summary>The encoded file contents.</summary>
    /// <exception cref="ArgumentException">A producer with id 0 or more than <see cref="MaxBatchesPerProducer"/> batches.</exception>
    public byte[] Encode()
    {
        int size = HeaderSize + 4;
        foreach (var producer in Producers)
        {
            if (producer.ProducerId == 0) throw new ArgumentException("Producer id 0 is not idempotent.", nameof(Producers));
            if (producer.Batches.Count > MaxBatchesPerProducer)
                throw new ArgumentException($"At most {MaxBatchesPerProducer} batches per producer.", nameof(Producers));
            size += ProducerSize + producer.Batches.Count * BatchSize;
        }
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], CoveredOffset);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], Producers.Count);
        int p = HeaderSize;
        foreach (var producer in Producers)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[p..], producer.ProducerId);
            BinaryPrimitives.WriteInt32LittleEndian(span[(p + 8)..], producer.LastSequence);
            BinaryPrimitives.WriteInt64LittleEndian(span[(p + 12)..], producer.LastSeenMs);
            span[p + 20] = (byte)producer.Batches.Count;
            p += ProducerSize;
            foreach (var batch in producer.Batches)
            {
                BinaryPrimitives.WriteInt32LittleEndian(span[p..], batch.BaseSequence);
                BinaryPrimitives.WriteInt32LittleEndian(span[(p + 4)..], batch.Count);
                BinaryPrimitives.WriteInt64LittleEndian(span[(p + 8)..], batch.BaseOffset);
                BinaryPrimitives.WriteInt64LittleEndian(span[(p + 16)..], batch.TimestampMs);
                p += BatchSize;
            }
        }
        BinaryPrimitives.WriteUInt32LittleEndian(span[p..], Checksum.Crc32C(span[..p]));
        return bytes;
    }

    /// <summary>
    /// Writes the snapshot into <paramref name="directory"/> atomically: a temp file, fsynced, renamed over the old one,
    /// then the directory fsynced. A crash leaves the old file or the new one, never a mix (and a leftover temp file is
    /// removed when the log is next opened).
    /// </summary>
    /// <exception cref="IOException">The file could not be written.</exception>
    public void Write(string directory) => AtomicFile.Replace(PathIn(directory), Encode());

    /// <summary>Removes the snapshot of <paramref name="directory"/>, if any.</summary>
    public static void Delete(string directory) => File.Delete(PathIn(directory));
}
