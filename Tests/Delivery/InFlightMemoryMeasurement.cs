using Granary.Grains.Cursors;
using Granary.Grains.Delivery;
using Granary.Records;
using Microsoft.Extensions.Time.Testing;

namespace Granary.Tests.DeliveryRules;

/// <summary>
/// The silo memory one group's <see cref="DeliveryState"/> costs per message in flight, record bytes it keeps alive
/// included (issue 19: at most 64 MB per 1,000,000). Explicit: it leases a million messages in the test process;
/// run it alone (<c>-method ... -explicit only</c>).
/// </summary>
public sealed class InFlightMemoryMeasurement(ITestOutputHelper output)
{
    private const int Messages = 1_000_000, PerBatch = 1_000, PayloadBytes = 100;
    private const long BytesPerMessageAllowed = 64;

    [Fact(Explicit = true)]
    public void AMillionLeases_CostAtMost64BytesEach_RecordsIncluded()
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);

        var state = new DeliveryState(new FakeTimeProvider());
        state.Configure(DeliveryMode.KeyShared, 20, owner: null);
        state.Restore(0, [], new Dictionary<long, int>(), new Dictionary<long, long>(), 0, 0, 0);
        var taken = new List<BufferedMessage>();
        var leases = new List<LeasedRecord>();
        long recordBytes = 0;
        for (long baseOffset = 0; baseOffset < Messages; baseOffset += PerBatch)
        {
            // A fetched buffer, as the grain's: nothing but the state may keep it alive once its messages are taken.
            var batch = RecordBatchBuilder.Encode(Enumerable.Range(0, PerBatch).Select(i => new LogRecord(new byte[PayloadBytes])
            {
                Key = Encoding.UTF8.GetBytes($"key-{i % 100}"),
                TimestampMs = 1_000,
            }));
            RecordBatchCodec.WriteBaseOffset(batch, baseOffset);
            recordBytes += batch.Length;
            foreach (var ranged in StoredBatches.Read(batch, baseOffset, baseOffset + PerBatch))
                state.Offer(BufferedMessage.From(ranged), forAnotherGroup: false);
            while (state.ReadyCount > 0)
            {
                taken.Clear();
                leases.Clear();
                state.Take("A", 10_000, TimeSpan.FromMinutes(10), taken, leases);
            }
        }
        taken.Clear();
        leases.Clear();
        state.TakeOutcome();
        long after = GC.GetTotalMemory(forceFullCollection: true);

        Assert.Equal(Messages, state.InFlightCount);
        long bytes = after - before;
        output.WriteLine($"{Messages:N0} in flight: {bytes / 1e6:F1} MB in the silo, record bytes kept alive included "
            + $"({(double)bytes / Messages:F1} bytes per message; the records read were {recordBytes / 1e6:F1} MB, "
            + $"{PayloadBytes}-byte payloads)");
        GC.KeepAlive(state);
        Assert.True(bytes <= BytesPerMessageAllowed * Messages, $"{bytes} bytes, {(double)bytes / Messages:F1} per message");
    }
}
