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
    /// Any other address needs <see cref="ApiKey"/>.
    /// </summary>
    public string Urls { get; set; } = "http://127.0.0.1:30080";

    /// <summary>
    /// The key callers send in an <c>X-Api-Key</c> header (or as <c>Authorization: Bearer</c>) to use the API and the
    /// metrics; null lets anyone who can reach the port in. Required when <see cref="Urls"/> leave loopback.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>The URLs, one per entry.</summary>
    public string[] UrlList => Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Throws <see cref="InvalidOperationException"/> for unusable URLs, or non-loopback URLs without a key.</summary>
    public void Validate()
    {
        if (!Enabled) return;
        if (UrlList.Length == 0) throw new InvalidOperationException("Granary:Admin:Urls is empty; set a URL such as http://127.0.0.1:30080, or Granary:Admin:Enabled=false.");
        foreach (string url in UrlList)
        {
            // Kestrel's wildcards (http://*:port, http://+:port) are not valid URIs; they bind every address.
            string host = url.Replace("://*", "://any-address", StringComparison.Ordinal).Replace("://+", "://any-address", StringComparison.Ordinal);
            if (!Uri.TryCreate(host, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                throw new InvalidOperationException($"Granary:Admin:Urls has '{url}', which is not an http:// or https:// URL.");
            if (!IsLoopback(uri) && string.IsNullOrEmpty(ApiKey))
                throw new InvalidOperationException(
                    $"The admin API would listen on '{url}', beyond loopback, without a key: set Granary:Admin:ApiKey, or bind it to 127.0.0.1.");
        }
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
