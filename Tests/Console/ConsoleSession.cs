using Granary.Tests.Admin;
using Microsoft.Playwright;

namespace Granary.Tests.Console;

/// <summary>
/// The web console of one silo open in a fresh browser context (its own storage), polling fast, and recording
/// the script errors the page throws, which a test checks at its end.
/// </summary>
internal sealed class ConsoleSession : IAsyncDisposable
{
    /// <summary>The console's poll interval in the tests (?interval=); people get 2 s.</summary>
    public const int PollMilliseconds = 250;

    public const int Width = 1280;
    public const int Height = 800;

    private readonly IBrowserContext _context;
    private readonly List<string> _scriptErrors = [];

    private ConsoleSession(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        // Uncaught exceptions and rejected promises only: a 401 the console expects also logs a console error.
        page.PageError += (_, error) => { lock (_scriptErrors) _scriptErrors.Add(error); };
    }

    public IPage Page { get; }

    /// <summary>Opens the console at <paramref name="section"/> (overview, topics, groups, dead-letters, cluster).</summary>
    public static async Task<ConsoleSession> OpenAsync(SystemChromium chromium, AdminSilo silo, string section)
    {
        var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = silo.Silo.AdminUrl.ToString(),
            ViewportSize = new ViewportSize { Width = Width, Height = Height },
        });
        context.SetDefaultTimeout((float)SystemChromium.Timeout.TotalMilliseconds);
        var session = new ConsoleSession(context, await context.NewPageAsync());
        await session.Page.GotoAsync($"/?interval={PollMilliseconds}#{section}");
        return session;
    }

    /// <summary>The table row with <c>data-testid</c> <paramref name="testId"/> whose data-<paramref name="attribute"/> is <paramref name="value"/>.</summary>
    public ILocator Row(string testId, string attribute, string value) =>
        Page.Locator($"[data-testid='{testId}'][data-{attribute}='{value}']");

    public void AssertNoScriptErrors()
    {
        lock (_scriptErrors) Assert.Empty(_scriptErrors);
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
