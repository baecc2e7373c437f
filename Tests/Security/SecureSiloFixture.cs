using Granary.Grains.Hosting;
using Granary.Grains.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace Granary.Tests.Security;

/// <summary>
/// One in-process silo with security on (a bootstrap key, superuser <see cref="Superuser"/>, mutual TLS settings that
/// trust <see cref="Certificates"/>' CA, for certificate sign-in), and a client whose calls carry the credential of
/// <see cref="As"/>'s scope. Keys and rules are made through the silo's <see cref="SecurityAdministration"/>.
/// </summary>
public sealed class SecureSiloFixture : IAsyncLifetime
{
    public const string BootstrapKey = "bootstrap-key-for-the-security-tests-0123456789";
    public const string Superuser = "root";

    // Not an AsyncLocal: the SDK's producers and consumers run their loops without the caller's execution context.
    // The tests of a class run one at a time, and each class has its own fixture.
    private volatile string? _credential;
    private readonly TempDirectory _data = new();

    private int _claimsSeenByGrains;
    private int _callsWithoutClaims;

    /// <summary>Grain calls that still held a credential or an on-behalf-of name when the grain ran (the gate removes them).</summary>
    public int ClaimsSeenByGrains => Volatile.Read(ref _claimsSeenByGrains);

    /// <summary>Grain calls that held neither when the grain ran.</summary>
    public int CallsWithoutClaims => Volatile.Read(ref _callsWithoutClaims);

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public GranaryClient Client { get; private set; } = null!;

    public TestCertificates Certificates { get; private set; } = null!;

    /// <summary>The OpenID Connect issuer whose tokens the silo accepts (its keys in a JWKS file).</summary>
    internal TestJwtIssuer Issuer { get; } = new();

    public IServiceProvider SiloServices => Cluster.GetActiveSilos().First().ServiceProvider;

    public SecurityAdministration Administration => SiloServices.GetRequiredService<SecurityAdministration>();

    public string ServiceId => SiloServices.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;

    public async ValueTask InitializeAsync()
    {
        Certificates = TestCertificates.Create(_data.Path, "gate");
        string jwks = Path.Combine(_data.Path, "jwks.json");
        await File.WriteAllTextAsync(jwks, Issuer.JwksJson());
        var builder = new InProcessTestClusterBuilder(initialSilosCount: 1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddGranary(o => o.DataDirectory = Path.Combine(_data.Path, "data")).UseInMemoryReminderService();
            silo.Services.Configure<GranarySecurityOptions>(o =>
            {
                o.Enabled = true;
                o.BootstrapKey = BootstrapKey;
                o.Superusers = [Superuser];
            });
            // Runs after the gate, just before the grain: what a grain would see, and forward, of the caller's claims.
            silo.AddIncomingGrainCallFilter(context =>
            {
                if (RequestContext.Get(SecurityContextKeys.Credential) is not null || RequestContext.Get(SecurityContextKeys.OnBehalfOf) is not null)
                    Interlocked.Increment(ref _claimsSeenByGrains);
                else Interlocked.Increment(ref _callsWithoutClaims);
                return context.Invoke();
            });
            silo.Services.Configure<Granary.Grains.Security.Jwt.JwtOptions>(o =>
            {
                o.Issuer = TestJwtIssuer.Name;
                o.Audience = TestJwtIssuer.Audience;
                o.SigningKeysPath = jwks;
            });
            // Sign-in reads the TLS settings; the in-memory transport itself has no TLS.
            silo.Services.Configure<GranaryTlsOptions>(o =>
            {
                o.Enabled = true;
                o.MutualTls = true;
                o.TrustedCaPath = Certificates.CaPath;
            });
        });
        builder.ConfigureClient(client => client.AddOutgoingGrainCallFilter(context =>
        {
            if (_credential is { } credential) RequestContext.Set(SecurityContextKeys.Credential, credential);
            return context.Invoke();
        }));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Client = GranaryClient.Create(Cluster.Client);
    }

    /// <summary>Runs <paramref name="action"/> with the client's calls carrying <paramref name="credential"/> (null: none).</summary>
    public async Task As(string? credential, Func<Task> action)
    {
        _credential = credential;
        await action();
    }

    /// <summary>Runs <paramref name="action"/> with the client's calls carrying <paramref name="credential"/> (null: none).</summary>
    public async Task<T> As<T>(string? credential, Func<Task<T>> action)
    {
        _credential = credential;
        return await action();
    }

    /// <summary>A new API key for <paramref name="principal"/>, allowed the given rules (each: operation on resource, prefix or exact).</summary>
    public async Task<string> KeyAsync(string principal, params (ResourceType Type, string Name, AclPatternType Pattern, AclOperation Operation, AclEffect Effect)[] rules)
    {
        var (_, text) = await Administration.CreateKeyAsync(principal, "test", Principal.Bootstrap);
        await GrantAsync(principal, rules);
        return text;
    }

    /// <summary>Allows (or denies) <paramref name="principal"/> the given rules.</summary>
    public async Task GrantAsync(string principal, params (ResourceType Type, string Name, AclPatternType Pattern, AclOperation Operation, AclEffect Effect)[] rules)
    {
        foreach (var rule in rules)
            await Administration.AddRuleAsync(principal, rule.Type, rule.Name, rule.Pattern, rule.Operation, rule.Effect, Principal.Bootstrap);
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Issuer.Dispose();
        _data.Dispose();
    }
}
