using Granary.Grains.Cursors;
using Granary.Grains.Hosting;
using Granary.Grains.Hosting.StateFiles;
using Granary.Storage;
using Granary.Tests.DeliveryRules;
using Granary.Tests.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;

namespace Granary.Tests.Cursors;

/// <summary>
/// What one cursor save writes, before (the whole <see cref="CursorState"/> through the file grain storage: read the
/// file for its ETag, write a temp file, fsync, two renames, directory fsync) and after (a delta appended to the state
/// log: one write, one fdatasync), for a cursor with 100,000 sparse acknowledged offsets above the committed one
/// (every other offset) and 1,000 leases, when 100 acks and 100 new leases happened since the last save (100 ms at
/// 2,000 messages a second). Prints the numbers; fails if a delta is not at least 100 times smaller.
/// </summary>
public sealed class CursorSaveCostMeasurement(ITestOutputHelper output)
{
    private static readonly ServiceProvider Services = new ServiceCollection()
        .AddSerializer(s => s.AddAssembly(typeof(FileGrainStorage).Assembly)).BuildServiceProvider();

    [Fact]
    public async Task ADeltaSave_WritesWhatChanged_NotTheWholeState()
    {
        const int Sparse = 200_000;
        var h = new DeliveryHarness();
        h.State.Restore(0, Enumerable.Range(0, Sparse / 2).Select(i => (long)(2 * i) + 1), new Dictionary<long, int>(), new Dictionary<long, long>(), 0, 0, 0);
        for (int i = 0; i < (Sparse / 1000) + 2; i++) h.Append(1000);
        var leases = h.Pull("A", 1000);
        Assert.Equal(100_000, h.State.AckedCount);
        Assert.Equal(1000, h.State.InFlightCount);
        h.State.TakeChanges();

        // Before: what SaveAsync wrote every time.
        using var data = new TempDirectory();
        var storage = new FileGrainStorage(data.Path, Services.GetRequiredService<Serializer>(), Services.GetRequiredService<IActivatorProvider>(),
            new StateDamageLog(NullLogger<StateDamageLog>.Instance, TimeProvider.System));
        var grain = GrainId.Create("granary.cursor", "orders/billing/0");
        var old = new StoredState<CursorState>
        {
            State = new CursorState
            {
                CommittedOffset = h.State.Committed, AckedAbove = [.. h.State.AckedAbove], Attempts = h.State.CopyAttempts(), RetryAt = h.State.CopyRetryAt(),
            },
        };
        await storage.WriteStateAsync("cursor", grain, old);
        long before = new FileInfo(storage.PathFor("cursor", grain)).Length;

        // After: 100 acks and 100 new leases since the last save.
        h.State.Ack("A", DeliveryHarness.Refs(leases.Take(100)));
        h.Pull("B", 100);
        var delta = h.State.TakeChanges()!;
        int deltaBytes = CursorStateCodec.EncodeDelta(delta).Length;
        int snapshotBytes = CursorStateCodec.EncodeSnapshot("orders/billing/0", h.State.ToSnapshot()).Length;
        long compactAt = Math.Max(CursorStateLog.MinCompactBytes, 4L * snapshotBytes);
        output.WriteLine($"before: {before} bytes written (and read back for the ETag) per save, 2 fsyncs (file, directory), 2 renames");
        output.WriteLine($"after: {deltaBytes} bytes per delta save ({delta.Offsets.Count} offsets changed), 1 fdatasync, no rename");
        output.WriteLine($"compaction: a {snapshotBytes}-byte snapshot (2 fsyncs, 1 rename) once the file passes {compactAt} bytes, every ~{(compactAt - snapshotBytes) / deltaBytes} such saves");
        Assert.True(deltaBytes * 100 < before, $"delta {deltaBytes} bytes, whole state {before} bytes");
    }
}
