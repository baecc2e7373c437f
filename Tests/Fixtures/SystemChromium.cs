using Microsoft.Playwright;

namespace Granary.Tests.Fixtures;

/// <summary>
/// Debian's Chromium, driven by Playwright, for the web console's tests. Playwright's own browser builds are never
/// downloaded (this machine reaches only package registries): when /usr/bin/chromium is missing and this process is
/// root, the Debian package is installed first, as <c>PostgresServer</c> does for PostgreSQL.
/// </summary>
public sealed class SystemChromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>What a test waits for a page to show; generous because a loaded 2-core machine polls slowly.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("not started");

    private static bool IsRoot => ExternalCommand.IsRoot;

    public async ValueTask InitializeAsync()
    {
        await EnsureInstalledAsync();
        Assertions.SetDefaultExpectTimeout((float)Timeout.TotalMilliseconds);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Chromium refuses to run its sandbox as root; containers have no user namespaces for it either.
            Args = IsRoot ? ["--no-sandbox", "--disable-dev-shm-usage"] : ["--disable-dev-shm-usage"],
            Timeout = (float)TimeSpan.FromSeconds(120).TotalMilliseconds,
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
    }

    private static async Task EnsureInstalledAsync()
    {
        if (File.Exists(ExecutablePath)) return;
        if (!IsRoot) throw new InvalidOperationException($"Chromium is not installed ({ExecutablePath} not found) and this is not root to install it: apt-get install chromium.");
        await ExternalCommand.InstallPackageAsync("chromium");
        if (!File.Exists(ExecutablePath)) throw new InvalidOperationException($"Installing the chromium package did not provide {ExecutablePath}.");
    }
}

/// <summary>The console's test classes share one browser and run one after another (each starts its own silo).</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<SystemChromium>
{
    public const string Name = "console";
}
