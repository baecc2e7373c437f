using System.Net;
using Granary.Silo.Admin;

namespace Granary.Silo.Startup;

/// <summary>
/// The secure-defaults rule: with <c>Granary:Security:Enabled</c> false nobody is asked who they are, so the silo may
/// listen only where no other machine can connect. A gateway, silo port or HTTP endpoint beyond loopback, chosen by any
/// setting, stops the silo before it listens, naming the setting and the address. The one exception is the admin API
/// behind its own key (<c>Granary:Admin:ApiKey</c>) or client certificates, as before security existed.
/// </summary>
internal static class ListenerExposure
{
    /// <summary>The setting that turns on authentication and permissions (<c>Granary:Security:Enabled</c>, default false).</summary>
    public const string SecurityEnabledSetting = "Granary:Security:Enabled";

    /// <summary>Cluster mode: the address the silo and gateway ports listen on (default: the advertised address).</summary>
    public const string ListenAddressSetting = "Granary:ListenAddress";

    /// <summary>Cluster mode: the address other silos and clients reach this silo at (default <c>127.0.0.1</c>).</summary>
    public const string AdvertisedAddressSetting = "Granary:AdvertisedAddress";

    private const string UrlsSetting = "urls: ASPNETCORE_URLS, DOTNET_URLS or --urls";

    /// <summary>Whether <see cref="SecurityEnabledSetting"/> is on.</summary>
    /// <exception cref="InvalidOperationException">The value is not a boolean (the configuration binder's message names it).</exception>
    public static bool IsSecurityEnabled(IConfiguration configuration) => configuration.GetValue<bool>(SecurityEnabledSetting);

    /// <summary>
    /// The HTTP listeners the configuration asks for: <c>Kestrel:Endpoints:*:Url</c>, the web host's <c>urls</c> and
    /// <c>Granary:Admin:Urls</c>. Read before the admin API sets the web host's URLs (which replaces <c>urls</c>).
    /// Kestrel binds its configured endpoints in place of the admin URLs; <c>urls</c> is replaced by the admin URLs and
    /// never binds, but asking for it beyond loopback is refused all the same: the intent is what is unsafe.
    /// <c>http_ports</c>/<c>https_ports</c> are left out: the web host ignores them whenever URLs are set, which the
    /// admin API always does (and the .NET container images set <c>ASPNETCORE_HTTP_PORTS=8080</c> by default).
    /// With the admin API off no HTTP server runs, so there are none.
    /// </summary>
    public static IReadOnlyList<SiloListener> HttpListeners(IConfiguration configuration, AdminOptions admin)
    {
        if (!admin.Enabled) return [];
        var listeners = new List<SiloListener>();
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            // An endpoint without a URL is Kestrel's to refuse when it starts.
            if (endpoint["Url"] is { Length: > 0 } url)
                listeners.Add(new SiloListener($"the Kestrel endpoint '{endpoint.Key}'", url, $"Kestrel:Endpoints:{endpoint.Key}:Url", !IsLoopbackUrl(url)));
        }
        foreach (string url in (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            listeners.Add(new SiloListener("the web host", url, UrlsSetting, !IsLoopbackUrl(url)));
        foreach (string url in admin.UrlList)
        {
            listeners.Add(new SiloListener("the admin API", url, AdminOptions.SectionName + ":Urls", !IsLoopbackUrl(url), admin.CallerCheck(url),
                "set Granary:Admin:ApiKey (or use an https URL with Granary:Admin:ClientCertificateCaPath)"));
        }
        return listeners;
    }

    /// <summary>The silo and gateway ports, with the setting that chose their address.</summary>
    /// <param name="endpoints">Where Orleans will listen.</param>
    /// <param name="addressSetting">The setting that chose the address (cluster mode: the listen or advertised address).</param>
    public static IReadOnlyList<SiloListener> OrleansListeners(OrleansListeningEndpoints endpoints, string addressSetting)
    {
        var listeners = new List<SiloListener>
        {
            new("the silo port", endpoints.Silo.ToString(), addressSetting, !IPAddress.IsLoopback(endpoints.Silo.Address)),
        };
        if (endpoints.Gateway is { } gateway)
            listeners.Add(new SiloListener("the gateway", gateway.ToString(), addressSetting, !IPAddress.IsLoopback(gateway.Address)));
        return listeners;
    }

    /// <summary>Refuses the first listener beyond loopback that nothing guards, unless security is on.</summary>
    /// <exception cref="SiloConfigurationException">Such a listener, with the message to print.</exception>
    public static void EnsureAllowed(IEnumerable<SiloListener> listeners, bool securityEnabled)
    {
        if (securityEnabled) return;
        foreach (var listener in listeners)
        {
            if (!listener.BeyondLoopback || listener.OtherGuard is not null) continue;
            string remedy = listener.GuardRemedy is { } guard ? $"turn on {SecurityEnabledSetting}, or {guard}, or bind it to 127.0.0.1" : $"turn on {SecurityEnabledSetting}, or bind it to 127.0.0.1";
            throw new SiloConfigurationException(
                $"{Capitalized(listener.Door)} would listen on {listener.Address}, beyond loopback (set by {listener.Setting}), while {SecurityEnabledSetting} is false: " +
                $"anyone who reaches it could do anything. To open it, {remedy}.");
        }
    }

    /// <summary>Whether a Kestrel URL binds loopback only: a loopback IP address or <c>localhost</c>; anything else (a wildcard, a host name, an unreadable URL) is not.</summary>
    internal static bool IsLoopbackUrl(string url) => AdminOptions.Parse(url) is { } uri && AdminOptions.IsLoopbackHost(uri.Host);

    /// <summary>Reads an IP address setting.</summary>
    /// <exception cref="SiloConfigurationException">It is not an IP address.</exception>
    public static IPAddress ParseAddress(string value, string setting) =>
        IPAddress.TryParse(value, out var address) ? address
            : throw new SiloConfigurationException($"{setting} is '{value}', which is not an IP address (such as 10.0.0.5, or 0.0.0.0 for every address).");

    private static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
