using Granary.Silo.Admin;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Granary.Silo.Startup;

/// <summary>
/// Once the silo has started, logs every port it listens on (Information), and, with security off, one warning that
/// anyone who reaches those ports may do anything, so that an open silo is never open by surprise.
/// </summary>
internal static partial class ListenerLog
{
    /// <summary>Logs the listeners when <paramref name="app"/> has started.</summary>
    /// <param name="app">The silo's host.</param>
    /// <param name="orleans">Where the silo and gateway ports listen.</param>
    /// <param name="admin">The admin API's options (its URLs behind a key are not open to anyone).</param>
    /// <param name="securityEnabled">Whether <c>Granary:Security:Enabled</c> is on.</param>
    public static void OnStarted(WebApplication app, OrleansListeningEndpoints orleans, AdminOptions admin, bool securityEnabled) =>
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Granary.Silo.Startup");
            // The addresses Kestrel really bound: its configured endpoints replace the admin URLs, and port 0 becomes a port.
            var http = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
            var open = new List<string> { $"silo port {orleans.Silo}" };
            LogListening(logger, "silo port (silo to silo)", orleans.Silo.ToString());
            if (orleans.Gateway is { } gateway)
            {
                LogListening(logger, "gateway (clients)", gateway.ToString());
                open.Insert(0, $"gateway {gateway}");
            }
            foreach (string url in http)
            {
                LogListening(logger, "admin API, console and metrics", url);
                if (admin.CallerCheck(url) is null) open.Add($"admin API {url}");
            }
            if (!securityEnabled) LogSecurityOff(logger, string.Join(", ", open));
        });

    [LoggerMessage(2101, LogLevel.Information, "Listening: {Listener} on {Address}")]
    private static partial void LogListening(ILogger logger, string listener, string address);

    [LoggerMessage(2102, LogLevel.Warning, "Security is off (" + ListenerExposure.SecurityEnabledSetting + "=false): anyone who can reach these loopback ports may do anything: {Ports}. Turn on " + ListenerExposure.SecurityEnabledSetting + " before opening them beyond loopback")]
    private static partial void LogSecurityOff(ILogger logger, string ports);
}
