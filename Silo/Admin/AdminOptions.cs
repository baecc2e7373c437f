using Microsoft.AspNetCore.Http;
using System.Net;

namespace Granary.Silo.Admin;

/// <summary>Where the admin HTTP API, the web console and the metrics endpoint listen, and who may call them.</summary>
public sealed class AdminOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Granary:Admin";

    /// <summary>Serve the admin API, console and metrics at all. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// URLs to listen on, separated by <c>;</c> (Kestrel syntax). Default <c>http://127.0.0.1:30080</c>: loopback only.
    /// Any other address needs <c>Granary:Security:Enabled</c>, or else <see cref="ApiKey"/> or client certificates
    /// (checked by <c>ListenerExposure</c> when the silo starts).
    /// </summary>
    public string Urls { get; set; } = "http://127.0.0.1:30080";

    /// <summary>
    /// The key callers send in an <c>X-Api-Key</c> header (or as <c>Authorization: Bearer</c>) to use the API and the
    /// metrics; null lets anyone who can reach the port in. Needed when <see cref="Urls"/> leave loopback, unless
    /// <see cref="ClientCertificateCaPath"/> requires client certificates. Only while <c>Granary:Security:Enabled</c> is
    /// off: with security on, the admin API takes the API keys of <c>granary keys create</c> (and
    /// <c>Granary:Security:BootstrapKey</c>) instead, and a silo given this one refuses to start.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>The HTTPS certificate (PEM or PFX file) for <c>https://</c> URLs.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The private key (PEM) of <see cref="CertificatePath"/>, when the certificate file holds none.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Password of a PFX <see cref="CertificatePath"/> or an encrypted PEM key.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// A CA certificate (PEM): <c>https://</c> URLs then require a client certificate issued by it, and refuse the
    /// connection otherwise. Either this or <see cref="ApiKey"/> lets the API leave loopback.
    /// </summary>
    public string? ClientCertificateCaPath { get; set; }

    /// <summary>
    /// The largest request body the admin API reads, in bytes; a larger one is answered 413 (problem details). Its
    /// requests are small JSON documents. Default 1 MiB.
    /// </summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The URLs, one per entry.</summary>
    public string[] UrlList => Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// Throws <see cref="InvalidOperationException"/> for unusable URLs or files, or <see cref="ApiKey"/> while
    /// <paramref name="securityEnabled"/> is true: one shared key would bypass the principals and rules. Whether a URL
    /// may leave loopback is decided with every other listener of the silo, by <c>ListenerExposure</c>.
    /// </summary>
    /// <param name="securityEnabled">Whether <c>Granary:Security:Enabled</c> is on: every request then authenticates as a principal.</param>
    public void Validate(bool securityEnabled = false)
    {
        if (!Enabled) return;
        if (securityEnabled && !string.IsNullOrEmpty(ApiKey))
            throw new InvalidOperationException(
                "Granary:Admin:ApiKey is a single shared key, which Granary:Security:Enabled replaces with API keys per principal: remove it, " +
                "and use Granary:Security:BootstrapKey to create the first keys and rules (granary keys create, granary acls grant).");
        if (MaxRequestBodyBytes <= 0) throw new InvalidOperationException($"Granary:Admin:MaxRequestBodyBytes is {MaxRequestBodyBytes}; it must be positive (default 1048576).");
        if (UrlList.Length == 0) throw new InvalidOperationException("Granary:Admin:Urls is empty; set a URL such as http://127.0.0.1:30080, or Granary:Admin:Enabled=false.");
        foreach (string url in UrlList)
        {
            var uri = Parse(url) ?? throw new InvalidOperationException($"Granary:Admin:Urls has '{url}', which is not an http:// or https:// URL.");
            bool https = uri.Scheme == Uri.UriSchemeHttps;
            if (https && string.IsNullOrEmpty(CertificatePath))
                throw new InvalidOperationException($"Granary:Admin:Urls has '{url}': an https URL needs Granary:Admin:CertificatePath (and KeyPath for a PEM certificate).");
        }
        if (!string.IsNullOrEmpty(ClientCertificateCaPath) && !UsesHttps)
            throw new InvalidOperationException("Granary:Admin:ClientCertificateCaPath needs an https URL in Granary:Admin:Urls: plain HTTP carries no client certificate.");
        foreach (string? file in new[] { CertificatePath, KeyPath, ClientCertificateCaPath })
            if (!string.IsNullOrEmpty(file) && !File.Exists(file)) throw new InvalidOperationException($"Granary:Admin: the file '{file}' does not exist.");
    }

    /// <summary>
    /// What checks the callers of <paramref name="url"/> without <c>Granary:Security</c>: the API key, or client
    /// certificates on an https URL; null when nothing does and anyone who reaches the URL gets in.
    /// </summary>
    internal string? CallerCheck(string url) =>
        !string.IsNullOrEmpty(ApiKey) ? "Granary:Admin:ApiKey"
        : url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(ClientCertificateCaPath) ? "Granary:Admin:ClientCertificateCaPath"
        : null;

    /// <summary>Whether any URL is <c>https://</c>.</summary>
    public bool UsesHttps => UrlList.Any(u => u.StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether every URL is on a loopback address (or <c>localhost</c>): nothing beyond this machine can connect.</summary>
    public bool ListensOnLoopbackOnly => UrlList.All(url => Parse(url) is { } uri && IsLoopback(uri));

    /// <summary>
    /// The addresses and ports Kestrel will bind for <see cref="Urls"/>, as far as they can be known beforehand: a
    /// wildcard host binds every address, <c>localhost</c> the IPv4 loopback (at least), an IP address itself; other
    /// host names and port 0 are left out. Used to refuse a taken port before the silo starts.
    /// </summary>
    internal IEnumerable<IPEndPoint> ListenEndPoints()
    {
        foreach (string url in UrlList)
        {
            if (Parse(url) is not { } uri || uri.Port == 0) continue;
            if (uri.Host == "any-address") yield return new IPEndPoint(IPAddress.Any, uri.Port);
            else if (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)) yield return new IPEndPoint(IPAddress.Loopback, uri.Port);
            else if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address)) yield return new IPEndPoint(address, uri.Port);
        }
    }

    /// <summary>Reads a Kestrel URL (wildcard hosts <c>*</c> and <c>+</c> included); null when it is no http(s) URL.</summary>
    internal static Uri? Parse(string url)
    {
        // Kestrel's wildcards (http://*:port, http://+:port) are not valid URIs; they bind every address.
        string host = url.Replace("://*", "://any-address", StringComparison.Ordinal).Replace("://+", "://any-address", StringComparison.Ordinal);
        if (!Uri.TryCreate(host, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)) return null;
        // Kestrel reads the host its own way (BindingAddress): for http://anyone@127.0.0.1:80 it takes "anyone@127.0.0.1",
        // no address, and binds every interface, while Uri says 127.0.0.1. A URL the two read differently is refused.
        BindingAddress binding;
        try { binding = BindingAddress.Parse(url); }
        catch (FormatException) { return null; }
        string kestrelHost = binding.Host is "*" or "+" ? "any-address" : binding.Host;
        return string.Equals(kestrelHost.Trim('[', ']'), uri.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase) && uri.UserInfo.Length == 0 ? uri : null;
    }

    private static bool IsLoopback(Uri uri) => IsLoopbackHost(uri.Host);

    /// <summary>Whether a host name or address (as in a URL or a <c>Host</c> header) is this machine's loopback.</summary>
    internal static bool IsLoopbackHost(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
