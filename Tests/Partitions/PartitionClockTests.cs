using Microsoft.Extensions.DependencyInjection;

namespace Granary.Tests.Partitions;

/// <summary>
/// The partition takes broker time from the silo's <see cref="TimeProvider"/>, not the machine clock: a silo whose
/// clock is ten years behind stamps messages ten years back. (The clock is shifted rather than frozen so that Orleans'
/// own timers keep running.)
/// </summary>
[Trait("Category", "Integration")]
public sealed class PartitionClockTests : IAsyncLifetime
{
    private static readonly TimeSpan Shift = -TimeSpan.FromDays(3650);
    private OneSiloCluster _silo = null!;

    [Fact]
    public async Task Append_StampsTheInjectedClocksTime()
    {
        string topic = BrokerClusterFixture.UniqueTopic("clock");
        await _silo.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 1 });
        await using var producer = _silo.Client.CreateProducer(topic);

        var receipt = await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("then")));

        var expected = DateTimeOffset.UtcNow + Shift;
        Assert.InRange(receipt.Timestamp, expected - TimeSpan.FromMinutes(5), expected + TimeSpan.FromMinutes(5));
    }

    public async ValueTask InitializeAsync() =>
        _silo = await OneSiloCluster.StartAsync(silo: s => s.Services.AddSingleton<TimeProvider>(new ShiftedTimeProvider(Shift)));

    public async ValueTask DisposeAsync() => await _silo.DisposeAsync();

    /// <summary>The system clock moved by a fixed amount; timers and timestamps for durations are the system's.</summary>
    private sealed class ShiftedTimeProvider(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + shift;
    }
}
