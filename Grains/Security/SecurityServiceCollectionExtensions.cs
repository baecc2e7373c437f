using Granary.Grains.Hosting;
using Granary.Grains.Security.Jwt;
using Granary.Grains.Security.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Grains.Security;

/// <summary>Registers authentication, permissions and the audit log on a silo.</summary>
public static class SecurityServiceCollectionExtensions
{
    /// <summary>The folder of the embedded store under <c>Granary:DataDirectory</c>.</summary>
    public const string EmbeddedStoreFolder = "security";

    /// <summary>
    /// Binds <see cref="GranarySecurityOptions"/> (<c>Granary:Security</c>) and adds the <see cref="SecurityCatalog"/>
    /// (refreshed in the background), the <see cref="AuditLog"/>, <see cref="SecurityAdministration"/> and certificate
    /// sign-in (<see cref="CertificateSessions"/>, <see cref="SessionTokens"/>). Keys, rules
    /// and the audit log are kept by a <see cref="FileSecurityStore"/> under the data directory unless another
    /// <see cref="ISecurityStore"/> is registered (cluster mode: <see cref="PostgresSecurityStore"/>).
    /// </summary>
    public static IServiceCollection AddGranarySecurity(this IServiceCollection services)
    {
        services.AddOptions<GranarySecurityOptions>().BindConfiguration(GranarySecurityOptions.SectionName).ValidateOnStart();
        services.TryAddSingleton<IValidateOptions<GranarySecurityOptions>, GranarySecurityOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ISecurityStore>(sp => new FileSecurityStore(
            Path.Combine(Path.GetFullPath(sp.GetRequiredService<IOptions<GranaryOptions>>().Value.DataDirectory), EmbeddedStoreFolder),
            sp.GetService<Hosting.StateFiles.StateDamageLog>()));
        services.TryAddSingleton<SecurityCatalog>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<SecurityCatalog>());
        services.TryAddSingleton(sp => new AuditLog(sp.GetRequiredService<ISecurityStore>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<AuditLog>>(), sp.GetService<ILocalSiloDetails>()?.Name ?? Environment.MachineName));
        services.TryAddSingleton<SecurityAdministration>();
        // Certificate sign-in: session tokens every silo accepts, checked against the TLS settings' trusted CA.
        services.TryAddSingleton<SessionTokens>();
        services.TryAddSingleton<CertificateSessions>();
        services.AddOptions<GranaryTlsOptions>().BindConfiguration(GranaryTlsOptions.SectionName);
        // JSON web tokens from an OpenID Connect issuer (Granary:Security:Jwt), when configured.
        services.AddJwtAuthentication();
        services.TryAddSingleton<CredentialAuthenticator>();
        return services;
    }

    /// <summary>Keeps keys, rules and the audit log in PostgreSQL (cluster mode), shared by every silo.</summary>
    public static IServiceCollection UsePostgresSecurityStore(this IServiceCollection services, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        services.RemoveAll<ISecurityStore>();
        services.AddSingleton<ISecurityStore>(new PostgresSecurityStore(connectionString));
        return services;
    }
}
