using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Granary.Silo.Admin;

/// <summary>HTTPS for the admin API: the server certificate, and (optionally) client certificates issued by one CA.</summary>
internal static class AdminHttps
{
    public static void Configure(KestrelServerOptions kestrel, AdminOptions options)
    {
        var certificate = LoadCertificate(options);
        X509Certificate2? ca = options.ClientCertificateCaPath is { Length: > 0 } path ? X509CertificateLoader.LoadCertificateFromFile(path) : null;
        kestrel.ConfigureHttpsDefaults(https =>
        {
            https.ServerCertificate = certificate;
            if (ca is null) return;
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (client, _, _) => IssuedBy(client, ca);
        });
    }

    private static X509Certificate2 LoadCertificate(AdminOptions options)
    {
        string path = options.CertificatePath!;
        if (options.KeyPath is { Length: > 0 } key)
            return options.CertificatePassword is { Length: > 0 } password
                ? X509Certificate2.CreateFromEncryptedPemFile(path, password, key)
                : X509Certificate2.CreateFromPemFile(path, key);
        return path.EndsWith(".pem", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".crt", StringComparison.OrdinalIgnoreCase)
            ? X509Certificate2.CreateFromPemFile(path)
            : X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword);
    }

    /// <summary>The client's chain ends at <paramref name="ca"/>, ignoring the system's trust store (a private CA, as for silo TLS).</summary>
    internal static bool IssuedBy(X509Certificate2 client, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(client);
    }
}
