using Granary.Grains.Security;
using Orleans.Core.Internal;
using static Granary.Tests.Security.SecureSiloFixture;

namespace Granary.Tests.Security.Review;

/// <summary>
/// Review of issue 17 (the grain-call gate), as a hostile client with a raw Orleans client: each test fails while the
/// hole it names exists.
/// </summary>
public sealed class GateReviewTests(SecureSiloFixture silo) : IClassFixture<SecureSiloFixture>
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private static string Unique(string prefix) => BrokerClusterFixture.UniqueTopic(prefix);

    private IGrainFactory Raw => silo.Cluster.Client;

    private async Task<string> TopicWithAMessageAndGroupAsync(string group)
    {
        string topic = Unique("rev");
        await silo.As(BootstrapKey, async () =>
        {
            await silo.Client.Admin.CreateTopicAsync(topic);
            await using var producer = silo.Client.CreateProducer(topic, new ProducerOptions { MaxRetries = 0 });
            await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("card=4111-1111")));
            await Raw.GetGrain<IConsumerGroupGrain>($"{topic}/{group}").JoinAsync($"member-{Guid.NewGuid():N}", new GroupSettings());
        });
        return topic;
    }

    private static void AssertRefused(Exception? outcome, string what)
    {
        // InvalidName: a grain key Granary never makes (checked strictly by the gate) is refused before any rule.
        Assert.True(outcome is GranaryException { Code: GranaryErrorCode.NotAllowed or GranaryErrorCode.Unauthenticated or GranaryErrorCode.InvalidName },
            $"{what} should be refused by the gate, but: {outcome?.GetType().Name ?? "it succeeded"} {outcome?.Message}");
    }

    // Review finding 3 (fixed): The gate names a cursor's group by everything before the key's last '/', the cursor grain by the
    // key's second part (GrainKeys.ParseCursor ignores parts after the third). "t/victim/0/0" is checked as group
    // "t/victim/0" but serves group "victim", partition 0: a deny on the group is bypassed.
    [Fact]
    public async Task ACursorKeyWithAnExtraPart_IsCheckedAsTheGroupTheCursorServes()
    {
        string topic = await TopicWithAMessageAndGroupAsync("victim");
        string principal = $"rev-{Guid.NewGuid():N}";
        string key = await silo.KeyAsync(principal,
            (ResourceType.Topic, topic, AclPatternType.Exact, AclOperation.Consume, AclEffect.Allow),
            (ResourceType.Group, $"{topic}/", AclPatternType.Prefix, AclOperation.Consume, AclEffect.Allow),
            (ResourceType.Group, $"{topic}/victim", AclPatternType.Exact, AclOperation.All, AclEffect.Deny));

        // The honest key of the group's cursor is refused, as it should be.
        var honest = await Record.ExceptionAsync(() => silo.As(key, () =>
            Raw.GetGrain<IPartitionCursorGrain>($"{topic}/victim/0").PullDecodedAsync("intruder", 10, Lease, TimeSpan.Zero)));
        AssertRefused(honest, "the cursor of the denied group");

        Delivery[]? taken = null;
        var crafted = await Record.ExceptionAsync(async () => taken = await silo.As(key, () =>
            Raw.GetGrain<IPartitionCursorGrain>($"{topic}/victim/0/0").PullDecodedAsync("intruder", 10, Lease, TimeSpan.FromSeconds(5))));
        AssertRefused(crafted, $"a cursor of the denied group by a crafted key (took {taken?.Length} messages)");
    }

    // Review finding 4 (fixed): Orleans' grain management extension is reachable on every Granary grain without a
    // credential: an anonymous client deactivates (or migrates) a partition leader, a topic or a group at will.
    [Fact]
    public async Task AnAnonymousClient_CannotDeactivateAPartitionGrain()
    {
        string topic = await TopicWithAMessageAndGroupAsync("g");
        var management = Raw.GetGrain<IPartitionGrain>($"{topic}/0").AsReference<IGrainManagementExtension>();
        var outcome = await Record.ExceptionAsync(() => silo.As(null, async () => await management.DeactivateOnIdle()));
        AssertRefused(outcome, "IGrainManagementExtension.DeactivateOnIdle without a credential");
    }

    // Held up (no hole): a partition grain's key is parsed with int.Parse, so "t/00" names partition 0 of topic t under
    // another grain id; the gate checks only the topic. A second activation over the same files would hand out offsets
    // again; it does not.
    [Fact]
    public async Task APartitionKeyWithALeadingZero_IsNotASecondActivationOfThePartition()
    {
        string topic = Unique("rev");
        await silo.As(BootstrapKey, () => silo.Client.Admin.CreateTopicAsync(topic));
        string key = await silo.KeyAsync($"rev-{Guid.NewGuid():N}", (ResourceType.Topic, topic, AclPatternType.Exact, AclOperation.Produce, AclEffect.Allow));
        var first = await silo.As(key, () => Raw.GetGrain<IPartitionGrain>($"{topic}/0").AppendAsync(
            new MessageBatch([Broker.ProducerIdempotenceTests.Message("a"), Broker.ProducerIdempotenceTests.Message("b")])));
        Assert.Equal(0, first.BaseOffset);

        AppendResult? aliased = null;
        var outcome = await Record.ExceptionAsync(async () => aliased = await silo.As(key, () =>
            Raw.GetGrain<IPartitionGrain>($"{topic}/00").AppendAsync(new MessageBatch([Broker.ProducerIdempotenceTests.Message("c")]))));
        // Either refused as a bad key, or the same partition's next offset; never a second log over the same files.
        if (outcome is null) Assert.Equal(2, aliased!.BaseOffset);
        else Assert.True(outcome is GranaryException { Code: GranaryErrorCode.InvalidName or GranaryErrorCode.InvalidArgument }, outcome.ToString());
    }

    // Review finding 2 (fixed): A group's settings come from the client that joins it, including DeadLetterTopic, and the
    // cursor writes dead letters as the silo (stamped, no on-behalf-of name, so unchecked). A principal that may only
    // consume (and produce to) its own topic makes the silo append its messages to a topic it may not produce to.
    [Fact]
    public async Task AGroupsDeadLetterTopic_CannotBeATopicTheJoinerMayNotProduceTo()
    {
        string victim = await TopicWithAMessageAndGroupAsync("owner");
        int before = await CountAsBootstrapAsync(victim);
        var (_, rejected) = await RejectIntoAsync(victim);
        if (!rejected) return; // the join was refused: no hole
        bool leaked = await WithinAsync(TimeSpan.FromSeconds(15), async () => await CountAsBootstrapAsync(victim) > before);
        Assert.False(leaked, $"the silo appended the joiner's message to '{victim}', which it may not produce to");
    }

    // Review finding 2 (same cause) (fixed): A dead-letter topic that does not exist is created by the silo: a principal without
    // Create on any topic creates topics of any name.
    [Fact]
    public async Task AGroupsDeadLetterTopic_IsNotCreatedForAPrincipalThatMayNotCreateIt()
    {
        string wanted = Unique("rev-made");
        var (_, rejected) = await RejectIntoAsync(wanted);
        if (!rejected) return;
        bool created = await WithinAsync(TimeSpan.FromSeconds(15), async () =>
        {
            var exists = await Record.ExceptionAsync(() => silo.As(BootstrapKey, () => Raw.GetGrain<ITopicGrain>(wanted).GetConfigAsync()));
            return exists is null;
        });
        Assert.False(created, $"the silo created topic '{wanted}' for a principal that may create no topic");
    }

    /// <summary>A principal allowed to produce to and consume its own topic joins a group whose dead-letter topic is
    /// <paramref name="target"/>, sends a message and rejects it. False when the join is refused.</summary>
    private async Task<(string Key, bool Rejected)> RejectIntoAsync(string target)
    {
        string own = Unique("rev-own");
        await silo.As(BootstrapKey, () => silo.Client.Admin.CreateTopicAsync(own));
        string key = await silo.KeyAsync($"rev-{Guid.NewGuid():N}",
            (ResourceType.Topic, own, AclPatternType.Exact, AclOperation.Produce, AclEffect.Allow),
            (ResourceType.Topic, own, AclPatternType.Exact, AclOperation.Consume, AclEffect.Allow),
            (ResourceType.Group, $"{own}/", AclPatternType.Prefix, AclOperation.Consume, AclEffect.Allow));
        string member = $"member-{Guid.NewGuid():N}";
        var join = await Record.ExceptionAsync(() => silo.As(key, () =>
            Raw.GetGrain<IConsumerGroupGrain>($"{own}/g").JoinAsync(member, new GroupSettings { DeadLetterTopic = target })));
        if (join is not null)
        {
            AssertRefused(join, "joining with another's topic as dead-letter topic");
            return (key, false);
        }
        await silo.As(key, () => Raw.GetGrain<IPartitionGrain>($"{own}/0").AppendAsync(
            new MessageBatch([Broker.ProducerIdempotenceTests.Message("forged-by-the-joiner")])));
        var cursor = Raw.GetGrain<IPartitionCursorGrain>($"{own}/g/0");
        var deliveries = await silo.As(key, () => cursor.PullDecodedAsync(member, 10, Lease, TimeSpan.FromSeconds(10)));
        Assert.NotEmpty(deliveries);
        await silo.As(key, () => cursor.RejectAsync(member, [.. deliveries.Select(d => d.Ref)]));
        return (key, true);
    }

    private async Task<int> CountAsBootstrapAsync(string topic) =>
        (await silo.As(BootstrapKey, () => Raw.GetGrain<IPartitionGrain>($"{topic}/0").FetchAsync(0, 100, TimeSpan.Zero))).Records().Length;

    /// <summary>Whether <paramref name="condition"/> holds at some point within <paramref name="time"/>.</summary>
    private static async Task<bool> WithinAsync(TimeSpan time, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + time;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return true;
            await Task.Delay(200);
        }
        return false;
    }
}
