using Granary.Grains.Hosting;
using Granary.Grains.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Granary.Tests.Security;

/// <summary>
/// Internal grains are closed to clients: a raw Orleans client (the test cluster's own, a real client through the
/// gateway) calling a silo-internal grain method is refused with <see cref="GranaryErrorCode.NotAllowed"/> and nothing changes;
/// a client that forges the silos' request-context mark is refused too.
/// </summary>
public sealed class InternalGrainAccessTests(InternalGrainAccessTests.SharedSilo shared) : IClassFixture<InternalGrainAccessTests.SharedSilo>
{
    private const int Sent = 3;

    /// <summary>One silo-internal call per internal interface (and per dangerous method), by name.</summary>
    private static readonly Dictionary<string, Func<IGrainFactory, string, string, Task>> InternalCalls = new()
    {
        ["IPartitionReplicaGrain.ResetAsync"] = (grains, topic, node) => grains.GetGrain<IPartitionReplicaGrain>($"{topic}/0/{node}").ResetAsync(1_000_000, 0),
        ["IPartitionReplicaGrain.DeleteAsync"] = (grains, topic, node) => grains.GetGrain<IPartitionReplicaGrain>($"{topic}/0/{node}").DeleteAsync(null),
        ["IPartitionGrain.DeleteAsync"] = (grains, topic, _) => grains.GetGrain<IPartitionGrain>($"{topic}/0").DeleteAsync(null),
        ["IPartitionCursorGrain.SeekAsync"] = (grains, topic, _) => grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0").SeekAsync(long.MaxValue),
        ["IPartitionCursorGrain.DeleteAsync"] = (grains, topic, _) => grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0").DeleteAsync(),
        ["IConsumerGroupGrain.DeleteAsync"] = (grains, topic, _) => grains.GetGrain<IConsumerGroupGrain>($"{topic}/g").DeleteAsync(),
        ["ITopicRegistryGrain.RemoveAsync"] = (grains, topic, _) => grains.GetGrain<ITopicRegistryGrain>(ITopicRegistryGrain.Key).RemoveAsync(topic),
        ["ITopicGrain.RegisterGroupAsync"] = (grains, topic, _) => grains.GetGrain<ITopicGrain>(topic).RegisterGroupAsync("intruder"),
    };

    /// <summary>The cases of <see cref="ARawClient_CallingAnInternalMethod_IsRefused_AndNothingChanges"/>.</summary>
    public static TheoryData<string> InternalCallNames => [.. InternalCalls.Keys];

    [Theory]
    [MemberData(nameof(InternalCallNames))]
    public async Task ARawClient_CallingAnInternalMethod_IsRefused_AndNothingChanges(string call)
    {
        // One silo for every case: each works on a topic (and its group) of its own, and checks only that topic.
        var silo = shared.Silo;
        string topic = await CreateTopicWithMessagesAsync(silo);

        var refused = await Assert.ThrowsAsync<GranaryException>(() => InternalCalls[call](silo.Cluster.Client, topic, Node(silo)));

        Assert.Equal(GranaryErrorCode.NotAllowed, refused.Code);
        Assert.False(refused.IsRetriable);
        await AssertUnchangedAsync(silo, topic);
    }

    [Fact]
    public async Task AClientForgingTheSilosMark_IsRefused()
    {
        // The client writes the key silos use, with a value of its own, into every call it makes.
        await using var silo = await OneSiloCluster.StartAsync(client: client => client.AddOutgoingGrainCallFilter(context =>
        {
            RequestContext.Set(InternalCallStamp.Key, "forged-by-a-client-0123456789abcdef0123456789");
            return context.Invoke();
        }));
        string topic = await CreateTopicWithMessagesAsync(silo);

        var refused = await Assert.ThrowsAsync<GranaryException>(() =>
            silo.Cluster.Client.GetGrain<IPartitionReplicaGrain>($"{topic}/0/{Node(silo)}").ResetAsync(1_000_000, 0));
        Assert.Equal(GranaryErrorCode.NotAllowed, refused.Code);
        refused = await Assert.ThrowsAsync<GranaryException>(() => silo.Cluster.Client.GetGrain<IPartitionGrain>($"{topic}/0").DeleteAsync(null));
        Assert.Equal(GranaryErrorCode.NotAllowed, refused.Code);
        await AssertUnchangedAsync(silo, topic);
    }

    [Fact]
    public async Task TheSilosOwnCalls_StillReachInternalMethods_AndTheEmbeddedSecretIsOwnerOnly()
    {
        var silo = shared.Silo;
        string topic = await CreateTopicWithMessagesAsync(silo);

        var info = await silo.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0").DescribeAsync();
        Assert.Equal(Sent, info.EndOffset);
        await Assert.ThrowsAsync<GranaryException>(() => silo.Cluster.Client.GetGrain<IPartitionGrain>($"{topic}/0").DescribeAsync());

        var services = silo.Cluster.GetActiveSilos().First().ServiceProvider;
        string file = Path.Combine(Path.GetFullPath(services.GetRequiredService<IOptions<GranaryOptions>>().Value.DataDirectory), InternalCallSecret.FileName);
        Assert.True(File.Exists(file));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(services.GetRequiredService<InternalCallSecret>().Value, File.ReadAllText(file).Trim());
    }

    private static string Node(OneSiloCluster silo) => silo.Cluster.GetActiveSilos().First().Name;

    private static async Task<string> CreateTopicWithMessagesAsync(OneSiloCluster silo)
    {
        string topic = BrokerClusterFixture.UniqueTopic("internal");
        await silo.Client.Admin.CreateTopicAsync(topic);
        await using var producer = silo.Client.CreateProducer(topic);
        for (int i = 0; i < Sent; i++) await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m{i}")));
        return topic;
    }

    /// <summary>The topic is listed, its partition still holds every message, and group <c>g</c> reads them all.</summary>
    private static async Task AssertUnchangedAsync(OneSiloCluster silo, string topic)
    {
        Assert.Contains(topic, await silo.Client.Admin.ListTopicsAsync());
        var partition = silo.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0");
        Assert.Equal(Sent, (await partition.DescribeAsync()).EndOffset);
        Assert.Equal(Sent, (await partition.FetchAsync(0, 10, TimeSpan.Zero)).Records().Length);
        // A short poll: disposing an idle consumer waits for its pending poll to end (up to PollWait, 5 s by default).
        await using var consumer = silo.Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= Sent, onEach: m => m.AckAsync());
        Assert.Equal(Sent, received.Count);
    }

    /// <summary>The silo the tests without client settings of their own share (one silo start instead of one per case).</summary>
    public sealed class SharedSilo : IAsyncLifetime
    {
        public OneSiloCluster Silo { get; private set; } = null!;

        public async ValueTask InitializeAsync() => Silo = await OneSiloCluster.StartAsync();

        public async ValueTask DisposeAsync()
        {
            if (Silo is not null) await Silo.DisposeAsync();
        }
    }
}
