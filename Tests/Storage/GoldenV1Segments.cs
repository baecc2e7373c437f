using Granary.Records;
using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>
/// What the committed version-1 segment files under Storage/Golden/v1 hold. They were written once by
/// <see cref="GoldenV1SegmentWriter"/> with the version-1 code (commit 8bca23e), before format version 2 existed, and
/// are never rewritten: the tests read them with today's code.
/// </summary>
internal static class GoldenV1Segments
{
    public const long TimestampMs = 1_700_000_000_000;

    /// <summary>The records, in offset order, as the writer appended them (two per batch, ~1.5 KB a batch in 4 KB segments, so there are several).</summary>
    public static IReadOnlyList<LogRecord> Records { get; } = Enumerable.Range(0, 12).Select(i => new LogRecord(Encoding.UTF8.GetBytes(Payload(i)))
    {
        Key = i % 3 == 0 ? null : Encoding.UTF8.GetBytes($"key-{i % 4}"),
        Headers = i % 2 == 0 ? [new RecordHeader("granary.message-id", Encoding.UTF8.GetBytes($"id-{i}")), new RecordHeader("h", new[] { (byte)i })] : null,
        TimestampMs = TimestampMs + i * 1000,
        ExpiresAtMs = i % 4 == 1 ? TimestampMs + i * 1000 + 60_000 : null,
        DeliverAtMs = i % 5 == 2 ? TimestampMs + i * 1000 + 5_000 : null,
        ProducerId = i < 6 ? 4242 : null,
        Sequence = i < 6 ? i : 0,
    }).ToList();

    public static string Payload(int i) => $"payload-{i}:" + new string((char)('a' + i), 700);

    public static PartitionLogOptions Options() => new() { FlushPolicy = FlushPolicy.Always, SegmentBytes = 4096, IndexIntervalBytes = 64 };

    public static string SourceDirectory => Path.Combine(AppContext.BaseDirectory, "Storage", "Golden", "v1");
}

/// <summary>
/// Writes the golden version-1 segments. Runs only when GRANARY_WRITE_GOLDEN_V1 names a directory; it was run once
/// with the version-1 code and the output committed. Running it again with a later format would write that format.
/// </summary>
public sealed class GoldenV1SegmentWriter
{
    [Fact]
    public async Task WriteGoldenV1Segments()
    {
        var target = Environment.GetEnvironmentVariable("GRANARY_WRITE_GOLDEN_V1");
        Assert.SkipWhen(string.IsNullOrEmpty(target), "GRANARY_WRITE_GOLDEN_V1 is not set: the golden files are committed, not regenerated.");
        Directory.CreateDirectory(target!);
        await using var log = PartitionLog.Open(target!, GoldenV1Segments.Options());
        foreach (var pair in GoldenV1Segments.Records.Chunk(2)) await log.AppendAsync(RecordBatchBuilder.Encode(pair));
        Assert.Equal(12, log.EndOffset);
    }
}
