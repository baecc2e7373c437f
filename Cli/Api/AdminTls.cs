using Granary.Grains.Security;

namespace Granary.Cli.Api;

/// <summary>The CLI's side of an HTTPS admin API: a private CA to trust, and a client certificate to present.</summary>
internal static class AdminTls
{
    /// <summary>
    /// The HTTP handler for <paramref name="url"/>: with <paramref name="caPath"/>, the silo's certificate must chain to
    /// that CA and be issued for the URL's host; with <paramref name="certificatePath"/>, that certificate is presented.
    /// </summary>
    /// <exception cref="CliException">A file is missing or unusable, or the options do not fit the URL (usage error).</exception>
    public static HttpClientHandler Handler(Uri url, string? caPath, string? certificatePath, string? keyPath)
    {
        bool https = url.Scheme == Uri.UriSchemeHttps;
        if (!https && (caPath ?? certificatePath) is not null)
            throw new CliException(ExitCodes.Usage, $"--ca and --cert need an https:// --url; '{url}' is plain HTTP.");
        if (keyPath is not null && certificatePath is null)
            throw new CliException(ExitCodes.Usage, "--key is the private key of --cert; give --cert too.");
        var handler = new HttpClientHandler();
        try
        {
            if (caPath is not null)
            {
                var server = new TlsCertificateValidator(TlsCertificates.LoadTrustedRoots(caPath), TlsCertificates.ServerAuthenticationOid, url.Host);
                handler.ServerCertificateCustomValidationCallback = (_, certificate, chain, _) => certificate is not null && server.IsAcceptable(certificate, chain, out _);
            }
            if (certificatePath is not null)
            {
                handler.ClientCertificateOptions = ClientCertificateOption.Manual;
                handler.ClientCertificates.Add(TlsCertificates.LoadFromFile(certificatePath, keyPath));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or FileNotFoundException or IOException)
        {
            handler.Dispose();
            throw new CliException(ExitCodes.Usage, e.Message);
        }
        return handler;
    }
}
