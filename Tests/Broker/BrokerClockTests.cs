using Microsoft.Extensions.DependencyInjection;

namespace Granary.Tests.Broker;

/// <summary>
/// The topic and group grains read calendar time from the silo's <see cref="TimeProvider"/>, not from the machine's
/// clock. The silo here runs on a clock set a year back (calendar time only: timers and elapsed time stay real, so
/// Orleans itself runs as usual).
/// </summary>
public sealed class BrokerClockTests
{
    private static readonly TimeSpan Behind = TimeSpan.FromDays(365);

    [Fact]
    public async Task CreateTopic_CreatedAt_ComesFromTheSilosClock()
    {
        await using var silo = await OneSiloCluster.StartAsync(silo: s => s.Services.AddSingleton<TimeProvider>(new CalendarBehind(Behind)));
        string topic = BrokerClusterFixture.UniqueTopic("clock");
        var before = DateTimeOffset.UtcNow - Behind;

        await silo.Client.Admin.CreateTopicAsync(topic);

        var created = (await silo.Client.Admin.DescribeTopicAsync(topic)).CreatedAt;
        var after = DateTimeOffset.UtcNow - Behind;
        Assert.InRange(created, before, after);
    }

    /// <summary>The system clock with its calendar time moved back; timestamps and timers are the system's.</summary>
    private sealed class CalendarBehind(TimeSpan behind) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() - behind;
    }
}
