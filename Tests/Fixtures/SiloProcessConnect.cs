namespace Granary.Tests.Fixtures;

/// <summary>Connecting to a silo process that was just started, as soon as it serves.</summary>
internal static class SiloProcessConnect
{
    /// <summary>
    /// Waits for the silo's readiness probe (polled every 200 ms), then connects. Connecting at once works too, but the
    /// client retries a refused connection after 1.5, 3, 4.5 and then every 5 s, so it connects up to 5 s after the silo
    /// is up: seconds per start in the tests that start and kill silos.
    /// </summary>
    public static async Task<GranaryClient> ConnectWhenReadyAsync(this SiloProcess silo)
    {
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
        return await silo.ConnectAsync();
    }
}
