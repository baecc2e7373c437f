using Granary.Grains.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Tests.Security;

/// <summary>
/// Security off (the default): the client surface stays open to anyone, whatever a client claims to be, and changes
/// are still audited, as made by "anonymous".
/// </summary>
public sealed class SecurityOffTests
{
    [Fact]
    public async Task AnyoneMayUseTheSurface_ClaimsAreIgnored_AndChangesAreAuditedAsAnonymous()
    {
        await using var silo = await OneSiloCluster.StartAsync(client: client => client.AddOutgoingGrainCallFilter(context =>
        {
            // A client claiming the bootstrap principal: not honoured, the audit says anonymous.
            RequestContext.Set(SecurityContextKeys.OnBehalfOf, OnBehalfOf.Encode(Principal.Bootstrap));
            RequestContext.Set(SecurityContextKeys.Credential, "not-a-key");
            return context.Invoke();
        }));
        string topic = BrokerClusterFixture.UniqueTopic("open");

        await silo.Client.Admin.CreateTopicAsync(topic);
        await using (var producer = silo.Client.CreateProducer(topic))
            await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("m")));
        Assert.Contains(topic, await silo.Client.Admin.ListTopicsAsync());
        await silo.Client.Admin.DeleteTopicAsync(topic);

        var audit = silo.Cluster.GetActiveSilos().First().ServiceProvider.GetRequiredService<AuditLog>();
        var events = (await audit.ReadAsync(null, 100)).Where(e => e.Target == topic).ToList();
        Assert.Equal(["topic.create", "topic.delete"], events.Select(e => e.Action).Order(StringComparer.Ordinal));
        Assert.All(events, e => Assert.Equal(Principal.Anonymous.Name, e.Principal));
    }
}
