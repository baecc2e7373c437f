using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Granary.Tests.Admin;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Granary.Tests.Console;

/// <summary>The web console in a real browser against a real silo: what it shows follows what producers and consumers do.</summary>
[Collection(ConsoleCollection.Name)]
public sealed partial class ConsoleTests(SystemChromium chromium, AdminApiSilo silo) : IClassFixture<AdminApiSilo>
{
    // A short poll: disposing an idle consumer waits for its pending poll to end (up to PollWait, 5 s by default).
    private static readonly ConsumerOptions NoExpiry = new() { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) };

    [Fact]
    public async Task WithSecurityOff_TheConsoleSaysSo_AndOffersNoSignOut()
    {
        // This class's silo runs with security off (it used to start a silo of its own in ConsoleSecurityTests).
        await using var console = await ConsoleSession.OpenAsync(chromium, silo, "cluster");
        await Expect(console.Page.GetByTestId("signed-in")).ToHaveTextAsync("Security is off: anyone may do anything");
        await Expect(console.Page.GetByTestId("sign-out")).ToBeHiddenAsync();
        await Expect(console.Page.GetByTestId("silo-row")).ToHaveCountAsync(1);
        console.AssertNoScriptErrors();
    }

    [Fact]
    public async Task TheTopicsPage_ShowsATopicsMessages_AndItsCountAndRateFollowWhatIsProduced()
    {
        string topic = BrokerClusterFixture.UniqueTopic("console-topics");
        await silo.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 3 });
        await using var producer = silo.Client.CreateProducer(topic);
        for (int i = 0; i < 25; i++) await producer.SendAsync(new OutgoingMessage(new byte[100]) { Key = $"k{i}" });

        await using var console = await ConsoleSession.OpenAsync(chromium, silo, "topics");
        var row = console.Row("topic-row", "topic", topic);
        await Expect(row.Locator("[data-col=messages]")).ToHaveTextAsync("25");
        await Expect(row.Locator("[data-col=partitions]")).ToHaveTextAsync("3");

        // Producing until the page shows a rate, rather than a burst it might poll before or after.
        int sent = 25;
        using var stop = new CancellationTokenSource();
        var producing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await producer.SendAsync(new OutgoingMessage(new byte[100]) { Key = $"k{sent}" });
                Interlocked.Increment(ref sent);
            }
        });
        await Expect(row.Locator("[data-col=rate]")).ToHaveTextAsync(NonZeroRate());
        await stop.CancelAsync();
        await producing;
        Assert.True(sent > 25);
        await Expect(row.Locator("[data-col=messages]")).ToHaveTextAsync(sent.ToString("N0", CultureInfo.InvariantCulture));

        await row.GetByRole(AriaRole.Button, new() { Name = topic }).ClickAsync();
        await Expect(console.Page.Locator("#topic-detail-title")).ToHaveTextAsync($"Partitions of {topic}");
        var partitions = console.Page.GetByTestId("partition-row");
        await Expect(partitions).ToHaveCountAsync(3);
        var (_, cluster, _) = await silo.SendAsync(HttpMethod.Get, "api/v1/cluster");
        string address = (string)cluster!["silos"]![0]!["address"]!;
        for (int p = 0; p < 3; p++)
        {
            await Expect(partitions.Nth(p).Locator("[data-col=leader]")).ToContainTextAsync(address);
            // One silo: the topic is not replicated, which the page says instead of listing replicas.
            await Expect(partitions.Nth(p).Locator("[data-col=inSyncReplicas]")).ToContainTextAsync("not replicated");
        }
        var perPartition = await partitions.Locator("[data-col=messages]").AllTextContentsAsync();
        Assert.Equal(sent, perPartition.Sum(t => int.Parse(t, NumberStyles.AllowThousands, CultureInfo.InvariantCulture)));
        console.AssertNoScriptErrors();
    }

    [Fact]
    public async Task TheGroupsPage_ShowsAGroupsLag_AndItsChartFollowsTheGroupAsItConsumes()
    {
        string topic = BrokerClusterFixture.UniqueTopic("console-groups");
        await silo.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        await using var producer = silo.Client.CreateProducer(topic);
        for (int i = 0; i < 30; i++) await producer.SendAsync(new OutgoingMessage(new byte[] { (byte)i }) { Key = $"k{i}" });
        await using var consumer = silo.Client.CreateConsumer(topic, "readers", NoExpiry);
        await consumer.StartAsync();

        await using var console = await ConsoleSession.OpenAsync(chromium, silo, "groups");
        var row = console.Row("group-row", "topic", topic);
        await Expect(row.Locator("[data-col=group]")).ToHaveTextAsync("readers");
        await Expect(row.Locator("[data-col=lag]")).ToHaveTextAsync("30");
        await Expect(row.Locator("[data-col=members]")).ToHaveTextAsync("1");
        await Expect(row.Locator("[data-col=mode]")).ToHaveTextAsync("Shared");
        var chart = console.Page.Locator($"[data-testid=lag-chart][data-group='{topic}/readers']");
        await Expect(chart).ToHaveAttributeAsync("data-latest", "30");
        await Expect(chart.GetByTestId("lag-line")).ToHaveAttributeAsync("points", AtLeastTwoPoints());
        await Expect(chart).ToContainTextAsync("lag (messages)");

        await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 30, onEach: m => m.AckAsync());
        await Expect(row.Locator("[data-col=lag]")).ToHaveTextAsync("0");
        await Expect(row.Locator("[data-col=inFlight]")).ToHaveTextAsync("0");
        await Expect(chart).ToHaveAttributeAsync("data-latest", "0");
        // The line now falls from 30 to the x axis: its highest point is above its last, which lies on the axis.
        string points = (await chart.GetByTestId("lag-line").GetAttributeAsync("points"))!;
        var ys = points.Split(' ').Select(p => double.Parse(p.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        Assert.True(ys.Length >= 2);
        Assert.True(ys.Min() < ys[^1], $"the lag line does not show the drop: {points}");
        console.AssertNoScriptErrors();
    }

    [Fact]
    public async Task TheDeadLettersPage_ListsARejectedMessage_AndRedriveDeliversItToTheGroupAgain()
    {
        string topic = BrokerClusterFixture.UniqueTopic("console-dlq");
        await silo.Client.Admin.CreateTopicAsync(topic);
        await using var producer = silo.Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage("poison pill"u8.ToArray()) { Key = "order-7" });
        await using (var consumer = silo.Client.CreateConsumer(topic, "billing", NoExpiry))
        {
            await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.RejectAsync());
            await Eventually.UntilAsync(async () => (await silo.Client.Admin.GetLagAsync(topic, "billing")).Partitions.Sum(p => p.DeadLettered) == 1);
        }

        await using var console = await ConsoleSession.OpenAsync(chromium, silo, "dead-letters");
        await console.Page.GetByLabel("Topic", new() { Exact = true }).SelectOptionAsync(topic);
        await console.Page.GetByLabel("Group", new() { Exact = true }).SelectOptionAsync("billing");
        var letters = console.Page.GetByTestId("dead-letter-row");
        await Expect(letters).ToHaveCountAsync(1);
        var letter = letters.First;
        await Expect(letter.Locator("[data-col=reason]")).ToHaveTextAsync("rejected");
        await Expect(letter.Locator("[data-col=key]")).ToHaveTextAsync("order-7");
        await Expect(letter.Locator("[data-col=payload]")).ToContainTextAsync("poison pill");
        await Expect(letter.Locator("[data-col=sourcePartition]")).ToHaveTextAsync("0");
        await Expect(letter.Locator("[data-col=sourceOffset]")).ToHaveTextAsync("0");
        await Expect(letter.Locator("[data-col=attempts]")).ToHaveTextAsync(new Regex(@"^\d+$"));

        var response = await console.Page.RunAndWaitForResponseAsync(
            () => letter.GetByRole(AriaRole.Button, new() { Name = "Redrive" }).ClickAsync(),
            r => r.Url.EndsWith("/dead-letters/redrive", StringComparison.Ordinal) && r.Request.Method == "POST");
        Assert.Equal(200, response.Status);
        Assert.Equal(1, (int)JsonNode.Parse(await response.TextAsync())!["redriven"]!);
        await Expect(console.Page.GetByTestId("redrive-result")).ToHaveAttributeAsync("data-redriven", "1");
        await Expect(console.Page.GetByTestId("redrive-result")).ToContainTextAsync("Redriven: 1 dead letter");

        await using var again = silo.Client.CreateConsumer(topic, "billing", NoExpiry);
        var back = Assert.Single(await Eventually.CollectAsync(again.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync()));
        Assert.Equal("poison pill", Broker.MessagingTests.Text(back));
        console.AssertNoScriptErrors();
    }

    [Fact]
    public async Task TheClusterPage_ListsTheSiloAsActive_WithThePartitionsItLeads()
    {
        string topic = BrokerClusterFixture.UniqueTopic("console-cluster");
        await silo.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });

        await using var console = await ConsoleSession.OpenAsync(chromium, silo, "cluster");
        var silos = console.Page.GetByTestId("silo-row");
        await Expect(silos).ToHaveCountAsync(1);
        await Expect(silos.Locator("[data-col=status]")).ToHaveTextAsync("Active");
        await Expect(silos.Locator("[data-col=gatewayPort]")).ToHaveTextAsync(silo.Silo.GatewayPort.ToString(CultureInfo.InvariantCulture));
        await Expect(silos.Locator("[data-col=partitionsLed]")).ToHaveTextAsync(new Regex(@"^[1-9][\d,]*$"));
        await Expect(silos.Locator("[data-col=memory]")).ToHaveTextAsync(new Regex(@"\d.*B$"));

        await console.Page.GetByRole(AriaRole.Tab, new() { Name = "Overview" }).ClickAsync();
        await Expect(console.Page.GetByTestId("stat-silos")).ToHaveTextAsync("1 / 1");
        console.AssertNoScriptErrors();
    }

    [Fact]
    public async Task WhenTheApiFails_TheBannerSaysWhy_KeepsTheLastData_AndGoesOnceTheApiAnswersAgain()
    {
        await using var console = await ConsoleSession.OpenAsync(chromium, silo, "cluster");
        var page = console.Page;
        var banner = page.GetByTestId("error-banner");
        await Expect(page.GetByTestId("silo-row")).ToHaveCountAsync(1);
        await Expect(banner).ToBeHiddenAsync();

        // The browser stands in for a failing silo (the real one must keep serving the other tests).
        await page.RouteAsync("**/api/v1/cluster", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 503,
            ContentType = "application/problem+json",
            Body = """{"type":"https://granary.dev/problems/partition-unavailable","title":"Temporarily unavailable","status":503,"detail":"No silo leads partition 3."}""",
        }));
        await Expect(banner).ToBeVisibleAsync();
        await Expect(banner).ToContainTextAsync("Temporarily unavailable: No silo leads partition 3.");
        await Expect(page.GetByTestId("silo-row")).ToHaveCountAsync(1);

        await page.UnrouteAsync("**/api/v1/cluster");
        await page.RouteAsync("**/api/v1/topics", route => route.AbortAsync("connectionrefused"));
        await Expect(banner).ToContainTextAsync("The silo did not answer");

        await page.UnrouteAsync("**/api/v1/topics");
        await Expect(banner).ToBeHiddenAsync();
        console.AssertNoScriptErrors();
    }

    /// <summary>A publish rate as the page writes it (one decimal), other than 0.0 and the dash of "not known yet".</summary>
    [GeneratedRegex(@"^(?!0\.0$)\d[\d,]*\.\d$")]
    private static partial Regex NonZeroRate();

    /// <summary>An SVG polyline's points with at least two x,y pairs.</summary>
    [GeneratedRegex(@"^-?[\d.]+,-?[\d.]+( -?[\d.]+,-?[\d.]+)+$")]
    private static partial Regex AtLeastTwoPoints();
}
