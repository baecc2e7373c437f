using Granary.Grains.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Granary.Silo.Admin;

/// <summary>HTTPS for the admin API: the server certificate, and (optionally) client certificates issued by one CA.</summary>
internal static partial class AdminHttps
{
    public static void Configure(KestrelServerOptions kestrel, AdminOptions options)
    {
        var certificate = TlsCertificates.LoadFromFile(options.CertificatePath!, options.KeyPath, options.CertificatePassword);
        var clients = options.ClientCertificateCaPath is { Length: > 0 } ca
            ? new TlsCertificateValidator(TlsCertificates.LoadTrustedRoots(ca), TlsCertificates.ClientAuthenticationOid)
            : null;
        var logger = kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Granary.Silo.Admin");
        kestrel.ConfigureHttpsDefaults(https =>
        {
            https.ServerCertificate = certificate;
            if (clients is null) return;
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (client, chain, _) =>
            {
                if (clients.IsAcceptable(client, chain, out string? rejection)) return true;
                LogRefused(logger, rejection!);
                return false;
            };
        });
    }

    [LoggerMessage(2, LogLevel.Warning, "Admin API: refused a client certificate: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);
}
