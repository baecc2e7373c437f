using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Granary.Tests.Console;

/// <summary>The console of a silo whose admin API needs a key: it asks for the key, then shows the data, and remembers it.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleApiKeyTests(SystemChromium chromium, KeyedConsoleSilo silo) : IClassFixture<KeyedConsoleSilo>
{
    [Fact]
    public async Task TheConsole_AsksForTheKey_RefusesAWrongOne_AndShowsTheDataWithTheRightOne()
    {
        string topic = BrokerClusterFixture.UniqueTopic("console-keyed");
        await silo.Client.Admin.CreateTopicAsync(topic);

        await using var console = await ConsoleSession.OpenAsync(chromium, silo, "topics");
        var page = console.Page;
        var keyForm = page.GetByTestId("key-form");
        var row = console.Row("topic-row", "topic", topic);
        await Expect(keyForm).ToBeVisibleAsync();
        await Expect(page.GetByTestId("error-banner")).ToContainTextAsync("needs a key");
        await Expect(row).ToHaveCountAsync(0);

        await page.GetByLabel("Admin API key").FillAsync("not-the-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Use key" }).ClickAsync();
        await Expect(page.GetByTestId("error-banner")).ToContainTextAsync("refused");
        await Expect(keyForm).ToBeVisibleAsync();
        await Expect(row).ToHaveCountAsync(0);

        await page.GetByLabel("Admin API key").FillAsync(KeyedConsoleSilo.Key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use key" }).ClickAsync();
        await Expect(row.Locator("[data-col=messages]")).ToHaveTextAsync("0");
        await Expect(keyForm).ToBeHiddenAsync();
        await Expect(page.GetByTestId("error-banner")).ToBeHiddenAsync();

        // The key is kept in the browser: a reload shows the data without asking again.
        await page.ReloadAsync();
        await Expect(row.Locator("[data-col=partitions]")).ToHaveTextAsync("1");
        await Expect(keyForm).ToBeHiddenAsync();
        console.AssertNoScriptErrors();
    }
}
