using System.Buffers.Binary;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Granary.Tests.Console;

/// <summary>
/// The topics page with some traffic, as a 1280x800 PNG. With GRANARY_UPDATE_SCREENSHOT=1 it is written to the
/// repository's docs/console.png (the README shows it); otherwise to a temporary file, so a test run leaves the
/// checkout as it was.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleScreenshotTests(SystemChromium chromium, ScreenshotConsoleSilo silo) : IClassFixture<ScreenshotConsoleSilo>
{
    private static readonly (string Name, int Partitions, int Messages)[] Topics =
        [("orders", 6, 1200), ("payments", 3, 450), ("audit.events", 2, 800), ("email.outbox", 1, 60)];

    [Fact]
    public async Task TheTopicsPage_WithTraffic_IsCapturedAsA1280x800Png()
    {
        foreach (var (name, partitions, messages) in Topics)
        {
            await silo.Client.Admin.CreateTopicAsync(name, new TopicOptions { Partitions = partitions });
            await using var producer = silo.Client.CreateProducer(name);
            await Task.WhenAll(Enumerable.Range(0, messages).Select(i => producer.SendAsync(new OutgoingMessage(new byte[256]) { Key = $"key-{i}" })));
        }
        await using (var billing = silo.Client.CreateConsumer("orders", "billing"))
            await Eventually.CollectAsync(billing.ReadAllAsync(), r => r.Count >= 900, onEach: m => m.AckAsync());
        await using var shipping = silo.Client.CreateConsumer("orders", "shipping");
        await shipping.StartAsync();

        await using var console = await ConsoleSession.OpenAsync(chromium, silo, "topics");
        var page = console.Page;
        await using var producerOfOrders = silo.Client.CreateProducer("orders");
        using var stop = new CancellationTokenSource();
        // Steady traffic on one topic, so that the picture shows a publish rate.
        var producing = Task.Run(async () =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                await producerOfOrders.SendAsync(new OutgoingMessage(new byte[256]) { Key = $"live-{i}" });
            }
        });
        try
        {
            await Expect(console.Row("topic-row", "topic", "orders").Locator("[data-col=rate]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^(?!0\.0$)\d[\d,]*\.\d$"));
            await Expect(console.Row("topic-row", "topic", "email.outbox").Locator("[data-col=messages]")).ToHaveTextAsync("60");
            await console.Row("topic-row", "topic", "orders").GetByRole(AriaRole.Button, new() { Name = "orders" }).ClickAsync();
            await Expect(page.GetByTestId("partition-row")).ToHaveCountAsync(6);
            await page.EvaluateAsync("window.scrollTo(0, 0)");

            byte[] png = await page.ScreenshotAsync(new PageScreenshotOptions { Type = ScreenshotType.Png });
            Assert.Equal((ConsoleSession.Width, ConsoleSession.Height), PngSize(png));
            await File.WriteAllBytesAsync(Destination(), png);
        }
        finally
        {
            await stop.CancelAsync();
            await producing;
        }
        console.AssertNoScriptErrors();
    }

    /// <summary>Width and height from a PNG's IHDR chunk (after the 8-byte signature and the chunk's length and type).</summary>
    private static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.True(png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a }), "not a PNG");
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    private static string Destination()
    {
        if (Environment.GetEnvironmentVariable("GRANARY_UPDATE_SCREENSHOT") != "1")
            return Path.Combine(Path.GetTempPath(), $"granary-console-{Environment.ProcessId}.png");
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Silo.sln"))) directory = directory.Parent;
        Assert.True(directory is not null, "GRANARY_UPDATE_SCREENSHOT=1 but no Silo.sln above the test assembly to find docs/ by");
        return Path.Combine(directory.FullName, "docs", "console.png");
    }
}
