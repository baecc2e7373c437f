using System.Security.Cryptography.X509Certificates;
using Granary.Grains.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace Granary.Grains.Hosting;

/// <summary>Transport security of a Granary silo.</summary>
public static class TlsSiloBuilderExtensions
{
    /// <summary>
    /// Turns on TLS for the silo's connections when <see cref="GranaryTlsOptions.Enabled"/> (otherwise does nothing):
    /// silo-to-silo connections in both directions are mutually authenticated, each side presenting the silo
    /// certificate and checking that the other's chains to <see cref="GranaryTlsOptions.TrustedCaPath"/> and is valid
    /// for both server and client authentication (a silo's, not a client's); the gateway presents the silo
    /// certificate to clients and, with
    /// <see cref="GranaryTlsOptions.MutualTls"/>, refuses clients whose certificate is missing or does not chain to
    /// that trust. Rejected certificates are logged with the reason.
    /// </summary>
    /// <exception cref="InvalidOperationException">The settings are inconsistent or the certificate cannot be used (checked now, not at the first connection).</exception>
    public static ISiloBuilder UseGranaryTls(this ISiloBuilder builder, GranaryTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!options.Enabled) return builder;
        var certificate = options.LoadCertificate();
        var roots = options.LoadTrustedRoots();
        // Either end of a silo-to-silo connection must be a silo: a certificate valid for both server and client
        // authentication, as silo certificates are, so that a client certificate of the same CA (clientAuth only)
        // cannot open the silo port. A client of the gateway needs client authentication only.
        var silos = new TlsCertificateValidator(roots, [TlsCertificates.ServerAuthenticationOid, TlsCertificates.ClientAuthenticationOid]);
        var clients = new TlsCertificateValidator(roots, TlsCertificates.ClientAuthenticationOid);
        var clientMode = options.MutualTls ? RemoteCertificateMode.RequireCertificate : RemoteCertificateMode.NoCertificate;

        builder.Configure<SiloConnectionOptions>(connections =>
        {
            connections.ConfigureSiloInboundConnection(connection =>
                connection.UseServerTls(Options(certificate, RemoteCertificateMode.RequireCertificate, silos, "silo", connection, options)));
            connections.ConfigureSiloOutboundConnection(connection =>
                connection.UseClientTls(Options(certificate, RemoteCertificateMode.RequireCertificate, silos, "silo", connection, options)));
            connections.ConfigureGatewayInboundConnection(connection =>
                connection.UseServerTls(Options(certificate, clientMode, clients, "client", connection, options)));
        });
        return builder;
    }

    private static TlsOptions Options(X509Certificate2 certificate, RemoteCertificateMode remoteMode, TlsCertificateValidator validator,
        string remoteRole, IConnectionBuilder connection, GranaryTlsOptions settings)
    {
        var logger = (connection.ApplicationServices.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance)
            .CreateLogger(typeof(TlsSiloBuilderExtensions).FullName!);
        var tls = new TlsOptions
        {
            LocalCertificate = certificate,
            RemoteCertificateMode = remoteMode,
            // Outbound silo connections must present the silo's certificate: the other silo requires it.
            ClientCertificateMode = RemoteCertificateMode.RequireCertificate,
            HandshakeTimeout = settings.HandshakeTimeout,
        };
        if (remoteMode != RemoteCertificateMode.NoCertificate)
        {
            tls.RemoteCertificateValidation = (remote, chain, _) =>
            {
                if (validator.IsAcceptable(remote, chain, out string? rejection)) return true;
                logger.LogWarning("TLS: refused the {Role} connection: {Reason}", remoteRole, rejection);
                return false;
            };
        }
        return tls;
    }
}
