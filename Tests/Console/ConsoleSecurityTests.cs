using Granary.Tests.Admin;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Granary.Tests.Console;

/// <summary>
/// The console of a silo with security on: it asks for an API key, says who is signed in, leaves out what that
/// principal may not see (the cluster, without Describe on it), and signs out.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleSecurityTests(SystemChromium chromium, ConsoleSecurityTests.Silo silo) : IClassFixture<ConsoleSecurityTests.Silo>
{
    public sealed class Silo() : SecureAdminSilo();

    [Fact]
    public async Task TheConsole_ShowsWhoIsSignedIn_AndHidesTheClusterFromAPrincipalThatMayNotDescribeIt()
    {
        string viewer = SecureAdminSilo.UniquePrincipal("viewer");
        var (_, key) = await silo.CreateKeyAsync(viewer);

        await using var console = await ConsoleSession.OpenAsync(chromium, silo, "cluster");
        var page = console.Page;
        var keyForm = page.GetByTestId("key-form");
        await Expect(keyForm).ToBeVisibleAsync();
        await Expect(page.GetByTestId("error-banner")).ToContainTextAsync("needs a key");

        await page.GetByLabel("Admin API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use key" }).ClickAsync();
        await Expect(page.GetByTestId("signed-in")).ToHaveTextAsync($"Signed in as {viewer} (API key)");
        await Expect(page.GetByTestId("cluster-not-allowed")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("silos-table")).ToBeHiddenAsync();
        await Expect(keyForm).ToBeHiddenAsync();
        await Expect(page.GetByTestId("error-banner")).ToBeHiddenAsync();

        await page.GetByTestId("sign-out").ClickAsync();
        await Expect(keyForm).ToBeVisibleAsync();
        await Expect(page.GetByTestId("signed-in")).ToHaveTextAsync("");

        await page.GetByLabel("Admin API key").FillAsync(SecureAdminSilo.BootstrapKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use key" }).ClickAsync();
        await Expect(page.GetByTestId("signed-in")).ToHaveTextAsync("Signed in as bootstrap (bootstrap key) · superuser");
        await Expect(page.GetByTestId("silo-row")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("cluster-not-allowed")).ToBeHiddenAsync();
        console.AssertNoScriptErrors();
    }

    [Fact]
    public async Task RedriveIsOffered_OnlyToAPrincipalThatMayAlterTheGroup()
    {
        string topic = BrokerClusterFixture.UniqueTopic("console-sec");
        await using (var client = await silo.ConnectAsBootstrapAsync())
        {
            await client.Admin.CreateTopicAsync(topic);
            await using (var producer = client.CreateProducer(topic)) await producer.SendAsync(new OutgoingMessage("poison"u8.ToArray()));
            await using var consumer = client.CreateConsumer(topic, "billing", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) });
            await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.RejectAsync());
            await Eventually.UntilAsync(async () => (await client.Admin.GetLagAsync(topic, "billing")).Partitions.Sum(p => p.DeadLettered) == 1);
        }
        string viewer = SecureAdminSilo.UniquePrincipal("viewer");
        var (_, key) = await silo.CreateKeyAsync(viewer);
        // The topic and its dead-letter topic ({topic}.billing.dlq), and reading through the group: not altering it.
        await silo.AddRuleAsync(viewer, "Topic", topic, "All", patternType: "Prefix");
        await silo.AddRuleAsync(viewer, "Group", $"{topic}/billing", "Consume");

        await using var console = await ConsoleSession.OpenAsync(chromium, silo, "dead-letters");
        var page = console.Page;
        await page.GetByLabel("Admin API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use key" }).ClickAsync();
        await page.GetByLabel("Topic", new() { Exact = true }).SelectOptionAsync(topic);
        await page.GetByLabel("Group", new() { Exact = true }).SelectOptionAsync("billing");
        await Expect(page.GetByTestId("dead-letter-row")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("redrive-not-allowed")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("redrive-button")).ToBeHiddenAsync();
        await Expect(page.GetByTestId("redrive-all")).ToBeHiddenAsync();

        // Allowed now: offered from the next poll on, without a reload.
        await silo.AddRuleAsync(viewer, "Group", $"{topic}/billing", "Alter");
        await Expect(page.GetByTestId("redrive-button")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("redrive-all")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("redrive-not-allowed")).ToBeHiddenAsync();
        console.AssertNoScriptErrors();
    }
}
