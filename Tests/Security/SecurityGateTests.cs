using Granary.Grains.Security;
using Microsoft.Extensions.DependencyInjection;
using static Granary.Tests.Security.SecureSiloFixture;

namespace Granary.Tests.Security;

/// <summary>
/// Security on, one silo: every client call needs a credential the cluster accepts and the permission its method
/// needs; the admin API's on-behalf-of name counts only on silos' own calls; changes are audited.
/// </summary>
public sealed class SecurityGateTests(SecureSiloFixture silo) : IClassFixture<SecureSiloFixture>
{
    private GranaryClient Client => silo.Client;

    private static (ResourceType, string, AclPatternType, AclOperation, AclEffect) Allow(ResourceType type, string name, AclOperation operation, bool prefix = false) =>
        (type, name, prefix ? AclPatternType.Prefix : AclPatternType.Exact, operation, AclEffect.Allow);

    private static (ResourceType, string, AclPatternType, AclOperation, AclEffect) Deny(ResourceType type, string name, AclOperation operation, bool prefix = false) =>
        (type, name, prefix ? AclPatternType.Prefix : AclPatternType.Exact, operation, AclEffect.Deny);

    private static string Unique(string prefix) => BrokerClusterFixture.UniqueTopic(prefix);

    private async Task<string> CreateTopicAsBootstrapAsync(string? name = null)
    {
        string topic = name ?? Unique("sec");
        await silo.As(BootstrapKey, () => Client.Admin.CreateTopicAsync(topic));
        return topic;
    }

    private async Task SendAsync(string topic, string text = "m")
    {
        await using var producer = Client.CreateProducer(topic, new ProducerOptions { MaxRetries = 0 });
        await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes(text)));
    }

    private Task<GroupJoinResult> JoinAsync(string topic, string group) =>
        silo.Cluster.Client.GetGrain<IConsumerGroupGrain>($"{topic}/{group}").JoinAsync($"member-{Guid.NewGuid():N}", new GroupSettings());

    private Task<FetchResult> FetchAsync(string topic) =>
        silo.Cluster.Client.GetGrain<IPartitionGrain>($"{topic}/0").FetchAsync(0, 10, TimeSpan.Zero);

    private async Task<GranaryException> RefusedAsync(GranaryErrorCode code, string? credential, Func<Task> call)
    {
        var refused = await Assert.ThrowsAsync<GranaryException>(() => silo.As(credential, call));
        Assert.Equal(code, refused.Code);
        Assert.False(refused.IsRetriable);
        return refused;
    }

    [Fact]
    public async Task AnAccessTokenFromTheConfiguredIssuer_IsItsSubject_CheckedByTheSameRules_AndAForgedOrExpiredOneIsRefused()
    {
        string topic = await CreateTopicAsBootstrapAsync();
        string subject = $"jwt-{Guid.NewGuid():N}";
        string token = silo.Issuer.Mint(DateTimeOffset.UtcNow, new Dictionary<string, object> { ["sub"] = subject });
        // Authenticated, but no rule yet: refused as that principal.
        var refused = await RefusedAsync(GranaryErrorCode.NotAllowed, token, () => SendAsync(topic));
        Assert.Contains(subject, refused.Message, StringComparison.Ordinal);

        await silo.GrantAsync(subject, Allow(ResourceType.Topic, topic, AclOperation.Produce));
        await silo.As(token, () => SendAsync(topic));
        await RefusedAsync(GranaryErrorCode.NotAllowed, token, () => FetchAsync(topic));

        string expired = silo.Issuer.Mint(DateTimeOffset.UtcNow.AddHours(-3), new Dictionary<string, object> { ["sub"] = subject });
        await RefusedAsync(GranaryErrorCode.Unauthenticated, expired, () => SendAsync(topic));
        using var other = new TestJwtIssuer();
        string forged = other.Mint(DateTimeOffset.UtcNow, new Dictionary<string, object> { ["sub"] = subject });
        var forgedRefusal = await RefusedAsync(GranaryErrorCode.Unauthenticated, forged, () => SendAsync(topic));
        Assert.DoesNotContain(forged, forgedRefusal.Message, StringComparison.Ordinal);
        // A token naming the bootstrap principal gets no superuser rights: only the bootstrap key does.
        string bootstrapToken = silo.Issuer.Mint(DateTimeOffset.UtcNow, new Dictionary<string, object> { ["sub"] = Principal.BootstrapName });
        await RefusedAsync(GranaryErrorCode.NotAllowed, bootstrapToken, () => Client.Admin.CreateTopicAsync(Unique("jwt-boot")));
    }

    [Fact]
    public async Task Anonymous_IsRefused_ToProduceConsumeCreateAndList()
    {
        string topic = await CreateTopicAsBootstrapAsync();

        var refused = await RefusedAsync(GranaryErrorCode.Unauthenticated, null, () => SendAsync(topic));
        Assert.Contains("needs a credential", refused.Message, StringComparison.Ordinal);
        await RefusedAsync(GranaryErrorCode.Unauthenticated, null, () => JoinAsync(topic, "g"));
        await RefusedAsync(GranaryErrorCode.Unauthenticated, null, () => FetchAsync(topic));
        await RefusedAsync(GranaryErrorCode.Unauthenticated, null, () => Client.Admin.CreateTopicAsync(Unique("anon")));
        await RefusedAsync(GranaryErrorCode.Unauthenticated, null, () => Client.Admin.ListTopicsAsync());
        await RefusedAsync(GranaryErrorCode.Unauthenticated, null, () => Client.Admin.GetActiveSilosAsync());
    }

    [Fact]
    public async Task AWrongKey_AndARevokedKey_AreRefused_WithoutEchoingTheSecret()
    {
        string topic = await CreateTopicAsBootstrapAsync();
        var (_, valid) = ApiKeys.Generate(); // well formed, never stored
        var refused = await RefusedAsync(GranaryErrorCode.Unauthenticated, valid, () => SendAsync(topic));
        Assert.Contains("API key", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(valid, refused.Message, StringComparison.Ordinal);
        await RefusedAsync(GranaryErrorCode.Unauthenticated, "not-a-key", () => SendAsync(topic));
        await RefusedAsync(GranaryErrorCode.Unauthenticated, BootstrapKey + "x", () => SendAsync(topic));

        string principal = $"revoked-{Guid.NewGuid():N}";
        var (record, key) = await silo.Administration.CreateKeyAsync(principal, null, Principal.Bootstrap);
        await silo.Administration.AddRuleAsync(principal, ResourceType.Topic, topic, AclPatternType.Exact, AclOperation.Produce, AclEffect.Allow, Principal.Bootstrap);
        await silo.As(key, () => SendAsync(topic));
        await silo.Administration.RevokeKeyAsync(record.Id, Principal.Bootstrap);
        await RefusedAsync(GranaryErrorCode.Unauthenticated, key, () => SendAsync(topic));
    }

    [Fact]
    public async Task AProduceOnlyPrincipal_Produces_ButCannotConsumeCreateOrDelete()
    {
        string topic = await CreateTopicAsBootstrapAsync();
        string principal = $"producer-{Guid.NewGuid():N}";
        string key = await silo.KeyAsync(principal, Allow(ResourceType.Topic, topic, AclOperation.Produce), Allow(ResourceType.Group, $"{topic}/g", AclOperation.Consume));

        await silo.As(key, () => SendAsync(topic));
        var refused = await RefusedAsync(GranaryErrorCode.NotAllowed, key, () => JoinAsync(topic, "g"));
        Assert.Contains(principal, refused.Message, StringComparison.Ordinal);
        Assert.Contains("consume", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"topic '{topic}'", refused.Message, StringComparison.Ordinal);
        await RefusedAsync(GranaryErrorCode.NotAllowed, key, () => FetchAsync(topic));
        await RefusedAsync(GranaryErrorCode.NotAllowed, key, () => Client.Admin.CreateTopicAsync(Unique("nope")));
        await RefusedAsync(GranaryErrorCode.NotAllowed, key, () => Client.Admin.DeleteTopicAsync(topic));
        await RefusedAsync(GranaryErrorCode.NotAllowed, key, () => Client.Admin.AddPartitionsAsync(topic, 2));
        Assert.Contains(topic, await silo.As(BootstrapKey, () => Client.Admin.ListTopicsAsync()));
    }

    [Fact]
    public async Task APrefixRule_CoversNamesWithThePrefix_Only()
    {
        string prefix = $"orders{Guid.NewGuid():N}.";
        string key = await silo.KeyAsync($"prefix-{Guid.NewGuid():N}", Allow(ResourceType.Topic, prefix, AclOperation.All, prefix: true));

        await silo.As(key, () => Client.Admin.CreateTopicAsync(prefix + "eu"));
        await silo.As(key, () => SendAsync(prefix + "eu"));
        string payments = await CreateTopicAsBootstrapAsync($"payments{Guid.NewGuid():N}");
        await RefusedAsync(GranaryErrorCode.NotAllowed, key, () => SendAsync(payments));
        await RefusedAsync(GranaryErrorCode.NotAllowed, key, () => Client.Admin.CreateTopicAsync($"payments{Guid.NewGuid():N}.eu"));
    }

    [Fact]
    public async Task DenyBeatsAllow()
    {
        string topic = await CreateTopicAsBootstrapAsync();
        string key = await silo.KeyAsync($"denied-{Guid.NewGuid():N}",
            Allow(ResourceType.Topic, "*", AclOperation.All), Deny(ResourceType.Topic, topic, AclOperation.Produce));

        await RefusedAsync(GranaryErrorCode.NotAllowed, key, () => SendAsync(topic));
        await silo.As(key, () => FetchAsync(topic)); // the other operations stay allowed
    }

    [Fact]
    public async Task Consuming_NeedsConsumeOnTheTopic_AndOnTheGroup()
    {
        string topic = await CreateTopicAsBootstrapAsync();
        await silo.As(BootstrapKey, () => SendAsync(topic));
        string topicOnly = await silo.KeyAsync($"topic-only-{Guid.NewGuid():N}", Allow(ResourceType.Topic, topic, AclOperation.Consume));
        string groupOnly = await silo.KeyAsync($"group-only-{Guid.NewGuid():N}", Allow(ResourceType.Group, $"{topic}/g", AclOperation.Consume));
        string both = await silo.KeyAsync($"both-{Guid.NewGuid():N}",
            Allow(ResourceType.Topic, topic, AclOperation.Consume), Allow(ResourceType.Group, $"{topic}/g", AclOperation.Consume));

        var refused = await RefusedAsync(GranaryErrorCode.NotAllowed, topicOnly, () => JoinAsync(topic, "g"));
        Assert.Contains($"group '{topic}/g'", refused.Message, StringComparison.Ordinal);
        await RefusedAsync(GranaryErrorCode.NotAllowed, groupOnly, () => JoinAsync(topic, "g"));
        await RefusedAsync(GranaryErrorCode.NotAllowed, both, () => JoinAsync(topic, "other"));

        // Through the SDK: the consumer joins, pulls and acks.
        var received = await silo.As(both, async () =>
        {
            await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry });
            return await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync());
        });
        Assert.Single(received);
    }

    [Fact]
    public async Task ListingTopics_ShowsOnlyWhatThePrincipalMayDescribe()
    {
        string id = Guid.NewGuid().ToString("N");
        string visible = await CreateTopicAsBootstrapAsync($"seen{id}");
        string hidden = await CreateTopicAsBootstrapAsync($"hidden{id}");
        string key = await silo.KeyAsync($"lister-{id}", Allow(ResourceType.Topic, visible, AclOperation.Produce));

        var listed = await silo.As(key, () => Client.Admin.ListTopicsAsync());
        Assert.Contains(visible, listed);
        Assert.DoesNotContain(hidden, listed);
        var all = await silo.As(BootstrapKey, () => Client.Admin.ListTopicsAsync());
        Assert.Contains(hidden, all);
    }

    [Fact]
    public async Task TheBootstrapKey_AndAConfiguredSuperuser_PassEveryCheck()
    {
        string rootKey = await silo.KeyAsync(Superuser);
        foreach (string key in (string[])[BootstrapKey, rootKey])
        {
            string topic = Unique("super");
            await silo.As(key, () => Client.Admin.CreateTopicAsync(topic));
            await silo.As(key, () => SendAsync(topic));
            await silo.As(key, () => JoinAsync(topic, "g"));
            await silo.As(key, () => Client.Admin.GetActiveSilosAsync());
            await silo.As(key, () => Client.Admin.DeleteTopicAsync(topic));
        }
    }

    [Fact]
    public async Task GrainsNeverSeeTheCallersCredential_NorAnOnBehalfOfName()
    {
        string topic = await CreateTopicAsBootstrapAsync();
        int before = silo.CallsWithoutClaims;
        await silo.As(BootstrapKey, async () =>
        {
            await SendAsync(topic);
            await JoinAsync(topic, "g");
            await WithOnBehalfOf(OnBehalfOf.Encode(Principal.Bootstrap), () => Client.Admin.DescribeTopicAsync(topic));
        });
        Assert.True(silo.CallsWithoutClaims > before);
        Assert.Equal(0, silo.ClaimsSeenByGrains);
    }

    [Fact]
    public async Task TheManagementGrain_ListsSilosForDescribeOnTheCluster_AndDoesTheRestForAdminOnly()
    {
        string describer = await silo.KeyAsync($"describer-{Guid.NewGuid():N}", Allow(ResourceType.Cluster, AclRule.Any, AclOperation.Describe));
        string nobody = await silo.KeyAsync($"nobody-{Guid.NewGuid():N}");
        var management = silo.Cluster.Client.GetGrain<IManagementGrain>(0);

        Assert.NotEmpty(await silo.As(describer, () => Client.Admin.GetActiveSilosAsync()));
        await RefusedAsync(GranaryErrorCode.NotAllowed, nobody, () => Client.Admin.GetActiveSilosAsync());
        var refused = await RefusedAsync(GranaryErrorCode.NotAllowed, describer, () => management.ForceGarbageCollection([]));
        Assert.Contains("admin the cluster", refused.Message, StringComparison.Ordinal);
        await RefusedAsync(GranaryErrorCode.Unauthenticated, null, () => management.ForceGarbageCollection([]));
        await silo.As(BootstrapKey, () => management.ForceGarbageCollection([]));
    }

    [Fact]
    public async Task OnBehalfOf_CountsOnlyOnTheSilosOwnCalls()
    {
        string producer = $"obo-{Guid.NewGuid():N}";
        string producerKey = await silo.KeyAsync(producer);
        string bootstrap = OnBehalfOf.Encode(Principal.Bootstrap);

        // A client naming the bootstrap principal gets nowhere: without a credential, nor with a weaker one.
        await RefusedAsync(GranaryErrorCode.Unauthenticated, null, () => WithOnBehalfOf(bootstrap, () => Client.Admin.CreateTopicAsync(Unique("obo"))));
        await RefusedAsync(GranaryErrorCode.NotAllowed, producerKey, () => WithOnBehalfOf(bootstrap, () => Client.Admin.CreateTopicAsync(Unique("obo"))));

        // A silo's call (the admin API's) is checked as the principal it names.
        var inSilo = GranaryClient.Create(silo.SiloServices.GetRequiredService<IClusterClient>());
        var refused = await Assert.ThrowsAsync<GranaryException>(() =>
            WithOnBehalfOf(OnBehalfOf.Encode(new Principal(producer, AuthenticationKind.ApiKey)), () => inSilo.Admin.CreateTopicAsync(Unique("obo"))));
        Assert.Equal(GranaryErrorCode.NotAllowed, refused.Code);
        Assert.Contains(producer, refused.Message, StringComparison.Ordinal);
        string topic = Unique("obo");
        await WithOnBehalfOf(bootstrap, () => inSilo.Admin.CreateTopicAsync(topic));
        Assert.Contains(await silo.SiloServices.GetRequiredService<AuditLog>().ReadAsync(null, 1000),
            e => e.Action == "topic.create" && e.Target == topic && e.Principal == Principal.BootstrapName);
    }

    private static async Task WithOnBehalfOf(string value, Func<Task> call)
    {
        RequestContext.Set(SecurityContextKeys.OnBehalfOf, value);
        await call();
    }

    [Fact]
    public async Task CreatesAltersSeeksAndDeletes_AreAudited_WithThePrincipal()
    {
        string principal = $"auditor-{Guid.NewGuid():N}";
        string topic = Unique("audited");
        string key = await silo.KeyAsync(principal, Allow(ResourceType.Topic, topic, AclOperation.All), Allow(ResourceType.Group, $"{topic}/g", AclOperation.All));

        await silo.As(key, async () =>
        {
            await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
            await SendAsync(topic);
            await JoinAsync(topic, "g");
            await Client.Admin.SeekAsync(topic, "g", SeekTarget.Latest);
            await Client.Admin.AddPartitionsAsync(topic, 3);
            await Client.Admin.AlterTopicAsync(topic, config => config with { MaxMessageBytes = 4096 });
            await Client.Admin.DeleteTopicAsync(topic);
        });

        var events = (await silo.SiloServices.GetRequiredService<AuditLog>().ReadAsync(null, 1000))
            .Where(e => e.Target == topic || e.Target == $"{topic}/g").ToList();
        Assert.All(events, e => Assert.Equal(principal, e.Principal));
        Assert.Contains(events, e => e.Action == "topic.create" && e.Detail == "partitions=2");
        Assert.Contains(events, e => e.Action == "group.seek" && e.Target == $"{topic}/g");
        Assert.Contains(events, e => e.Action == "topic.add-partitions" && e.Detail == "partitions=3");
        Assert.Contains(events, e => e.Action == "topic.alter" && e.Detail!.Contains("maxMessageBytes=4096", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Action == "topic.delete");
        Assert.Equal(5, events.Count); // produce and consume are not audited
    }
}
