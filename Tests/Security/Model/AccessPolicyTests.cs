using Granary.Grains.Security;

namespace Granary.Tests.Security.Model;

public sealed class AccessPolicyTests
{
    private static readonly Principal Ops = new("ops", AuthenticationKind.ApiKey);
    private static readonly Principal Other = new("other", AuthenticationKind.ApiKey);

    private static AclRule Rule(string principal, ResourceType type, string name, AclOperation operation, AclEffect effect = AclEffect.Allow,
        AclPatternType pattern = AclPatternType.Exact) =>
        new(Guid.NewGuid(), principal, type, name, pattern, operation, effect, DateTimeOffset.UnixEpoch, "test");

    [Fact]
    public void NoRules_DeniesEverything_DefaultDeny()
    {
        var policy = new AccessPolicy([], []);
        foreach (var operation in Enum.GetValues<AclOperation>().Where(o => o != AclOperation.All))
            Assert.False(policy.IsAllowed(Ops, ResourceType.Topic, "orders", operation));
    }

    [Fact]
    public void ExactRule_AllowsThatOperationOnThatNameOnly()
    {
        var policy = new AccessPolicy([Rule("ops", ResourceType.Topic, "orders", AclOperation.Produce)], []);
        Assert.True(policy.IsAllowed(Ops, ResourceType.Topic, "orders", AclOperation.Produce));
        Assert.False(policy.IsAllowed(Ops, ResourceType.Topic, "orders", AclOperation.Consume));
        Assert.False(policy.IsAllowed(Ops, ResourceType.Topic, "orders2", AclOperation.Produce));
        Assert.False(policy.IsAllowed(Ops, ResourceType.Topic, "Orders", AclOperation.Produce));
        Assert.False(policy.IsAllowed(Ops, ResourceType.Group, "orders", AclOperation.Produce));
        Assert.False(policy.IsAllowed(Other, ResourceType.Topic, "orders", AclOperation.Produce));
    }

    [Fact]
    public void PrefixRule_MatchesNamesStartingWithIt()
    {
        var policy = new AccessPolicy([Rule("ops", ResourceType.Topic, "orders.", AclOperation.Consume, pattern: AclPatternType.Prefix)], []);
        Assert.True(policy.IsAllowed(Ops, ResourceType.Topic, "orders.eu", AclOperation.Consume));
        Assert.True(policy.IsAllowed(Ops, ResourceType.Topic, "orders.", AclOperation.Consume));
        Assert.False(policy.IsAllowed(Ops, ResourceType.Topic, "orders", AclOperation.Consume));
        Assert.False(policy.IsAllowed(Ops, ResourceType.Topic, "payments", AclOperation.Consume));
    }

    [Fact]
    public void DenyBeatsAllow_WhicheverComesFirst()
    {
        var allow = Rule("*", ResourceType.Topic, "*", AclOperation.All);
        var deny = Rule("ops", ResourceType.Topic, "secret.", AclOperation.Consume, AclEffect.Deny, AclPatternType.Prefix);
        foreach (var rules in new[] { new[] { allow, deny }, new[] { deny, allow } })
        {
            var policy = new AccessPolicy(rules, []);
            Assert.False(policy.IsAllowed(Ops, ResourceType.Topic, "secret.orders", AclOperation.Consume));
            Assert.True(policy.IsAllowed(Ops, ResourceType.Topic, "secret.orders", AclOperation.Produce));
            Assert.True(policy.IsAllowed(Ops, ResourceType.Topic, "public", AclOperation.Consume));
            Assert.True(policy.IsAllowed(Other, ResourceType.Topic, "secret.orders", AclOperation.Consume));
        }
    }

    [Fact]
    public void WildcardPrincipalAndAllOperation_MatchEveryAuthenticatedPrincipal_ButNotAnonymous()
    {
        var policy = new AccessPolicy([Rule("*", ResourceType.Topic, "*", AclOperation.All)], []);
        Assert.True(policy.IsAllowed(Ops, ResourceType.Topic, "anything", AclOperation.Delete));
        Assert.False(policy.IsAllowed(Principal.Anonymous, ResourceType.Topic, "anything", AclOperation.Describe));
    }

    [Fact]
    public void Describe_IsImpliedByAnyOtherAllowedOperation_UnlessDenied()
    {
        var produce = Rule("ops", ResourceType.Topic, "orders", AclOperation.Produce);
        Assert.True(new AccessPolicy([produce], []).IsAllowed(Ops, ResourceType.Topic, "orders", AclOperation.Describe));
        var denyDescribe = Rule("ops", ResourceType.Topic, "orders", AclOperation.Describe, AclEffect.Deny);
        Assert.False(new AccessPolicy([produce, denyDescribe], []).IsAllowed(Ops, ResourceType.Topic, "orders", AclOperation.Describe));
        var deniedProduce = Rule("ops", ResourceType.Topic, "orders", AclOperation.Produce, AclEffect.Deny);
        Assert.False(new AccessPolicy([produce, deniedProduce], []).IsAllowed(Ops, ResourceType.Topic, "orders", AclOperation.Describe));
    }

    [Fact]
    public void SuperusersAndTheBootstrapPrincipal_PassEveryCheck_EvenAgainstADeny()
    {
        var deny = Rule("*", ResourceType.Cluster, "*", AclOperation.All, AclEffect.Deny);
        var policy = new AccessPolicy([deny], ["root"]);
        Assert.True(policy.IsAllowed(new Principal("root", AuthenticationKind.Certificate), ResourceType.Cluster, "*", AclOperation.Admin));
        Assert.True(policy.IsAllowed(Principal.Bootstrap, ResourceType.Cluster, "*", AclOperation.Admin));
        Assert.False(policy.IsAllowed(Ops, ResourceType.Cluster, "*", AclOperation.Admin));
        // A principal merely named "bootstrap" through another door is no superuser.
        Assert.False(policy.IsAllowed(new Principal("bootstrap", AuthenticationKind.Jwt), ResourceType.Cluster, "*", AclOperation.Admin));
    }

    [Theory]
    [InlineData("ops", ResourceType.Cluster, "orders", AclPatternType.Exact)]
    [InlineData("ops", ResourceType.Cluster, "*", AclPatternType.Prefix)]
    [InlineData("bad name", ResourceType.Topic, "orders", AclPatternType.Exact)]
    [InlineData("ops", ResourceType.Topic, "", AclPatternType.Exact)]
    [InlineData("ops", ResourceType.Topic, "a\nb", AclPatternType.Exact)]
    public void UnusableRuleValues_AreNamed(string principal, ResourceType type, string name, AclPatternType pattern) =>
        Assert.NotNull(AclRule.Problem(principal, type, name, pattern, AclOperation.Describe, AclEffect.Allow));

    [Fact]
    public void UsableRuleValues_HaveNoProblem()
    {
        Assert.Null(AclRule.Problem("*", ResourceType.Cluster, "*", AclPatternType.Exact, AclOperation.Admin, AclEffect.Allow));
        Assert.Null(AclRule.Problem("svc:orders", ResourceType.Group, "orders/billing", AclPatternType.Exact, AclOperation.Consume, AclEffect.Deny));
        Assert.Null(AclRule.Problem("ops", ResourceType.Topic, "", AclPatternType.Prefix, AclOperation.Produce, AclEffect.Allow));
    }
}
