using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Granary.Grains.Security;

/// <summary>
/// Decides whether the certificate the other end of a TLS connection presented is acceptable: it must chain to one
/// of the trusted CA certificates (or, when none are given, to the system's trust store), be valid for every expected
/// usage (server and/or client authentication), and, when a host name is expected, be issued for that name.
/// </summary>
/// <remarks>
/// The chain is built here rather than taken from the TLS stack's verdict because a private CA is trusted by this
/// one setting only, not by the machine, and because silos connect to each other by IP address, where the stack's
/// host-name check does not apply. Revocation is not checked (a private test CA publishes no revocation list).
/// </remarks>
public sealed class TlsCertificateValidator
{
    private readonly X509Certificate2Collection? _trustedRoots;
    private readonly string[] _usageOids;
    private readonly string? _hostName;

    /// <summary>Creates a validator.</summary>
    /// <param name="trustedRoots">The CA certificates to trust instead of the system's store; null for the system's store.</param>
    /// <param name="usageOid">The usage the remote certificate must allow (<see cref="TlsCertificates.ServerAuthenticationOid"/> or <see cref="TlsCertificates.ClientAuthenticationOid"/>).</param>
    /// <param name="hostName">The name the certificate must be issued for (its SAN); null to skip the name check.</param>
    public TlsCertificateValidator(X509Certificate2Collection? trustedRoots, string usageOid, string? hostName = null)
        : this(trustedRoots, [usageOid], hostName)
    {
    }

    /// <summary>Creates a validator whose remote certificate must allow each of several usages.</summary>
    /// <param name="trustedRoots">The CA certificates to trust instead of the system's store; null for the system's store.</param>
    /// <param name="usageOids">
    /// The usages the remote certificate must all allow: a silo calling another silo must present a certificate valid
    /// for both server and client authentication, so that a client certificate of the same CA is not taken for a silo's.
    /// </param>
    /// <param name="hostName">The name the certificate must be issued for (its SAN); null to skip the name check.</param>
    public TlsCertificateValidator(X509Certificate2Collection? trustedRoots, IReadOnlyCollection<string> usageOids, string? hostName = null)
    {
        ArgumentNullException.ThrowIfNull(usageOids);
        if (usageOids.Count == 0) throw new ArgumentException("At least one usage is required.", nameof(usageOids));
        foreach (string usage in usageOids) ArgumentException.ThrowIfNullOrWhiteSpace(usage, nameof(usageOids));
        _trustedRoots = trustedRoots is { Count: > 0 } ? trustedRoots : null;
        _usageOids = [.. usageOids];
        _hostName = string.IsNullOrWhiteSpace(hostName) ? null : hostName;
    }

    /// <summary>
    /// True when <paramref name="certificate"/> is acceptable; otherwise false with the reason in <paramref name="rejection"/>.
    /// </summary>
    /// <param name="certificate">The remote end's certificate.</param>
    /// <param name="presentedChain">The chain the TLS stack built, whose intermediate certificates the remote end sent; may be null.</param>
    /// <param name="rejection">Why the certificate is not acceptable, or null.</param>
    public bool IsAcceptable(X509Certificate2 certificate, X509Chain? presentedChain, out string? rejection) =>
        // Intermediates the remote end sent; the leaf itself is element 0.
        IsAcceptableWith(certificate, presentedChain is null ? [] : presentedChain.ChainElements.Skip(1).Select(e => e.Certificate), out rejection);

    /// <summary>
    /// True when <paramref name="certificate"/> is acceptable, given the intermediate CA certificates the remote end
    /// sent; otherwise false with the reason in <paramref name="rejection"/>.
    /// </summary>
    /// <param name="certificate">The remote end's certificate.</param>
    /// <param name="intermediates">Intermediate CA certificates that may complete the chain (never trusted as roots).</param>
    /// <param name="rejection">Why the certificate is not acceptable, or null.</param>
    public bool IsAcceptableWith(X509Certificate2 certificate, IEnumerable<X509Certificate2> intermediates, out string? rejection)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(intermediates);
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.RevocationMode = X509RevocationMode.NoCheck;
        foreach (string usage in _usageOids) policy.ApplicationPolicy.Add(new Oid(usage));
        if (_trustedRoots is not null)
        {
            policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            policy.CustomTrustStore.AddRange(_trustedRoots);
        }
        foreach (var intermediate in intermediates) policy.ExtraStore.Add(intermediate);
        if (!chain.Build(certificate))
        {
            var reasons = chain.ChainStatus.Select(s => $"{s.Status}: {s.StatusInformation.Trim()}").Distinct();
            rejection = $"certificate '{certificate.Subject}' (issuer '{certificate.Issuer}') does not chain to "
                + (_trustedRoots is null ? "the system's trusted CAs" : $"the trusted CA ({string.Join(", ", _trustedRoots.Select(r => r.Subject))})")
                + $" for usage {string.Join(" and ", _usageOids.Select(TlsCertificates.UsageName))}: {string.Join("; ", reasons)}";
            return false;
        }
        if (_hostName is not null && !certificate.MatchesHostname(_hostName))
        {
            rejection = $"certificate '{certificate.Subject}' is not issued for host '{_hostName}'";
            return false;
        }
        rejection = null;
        return true;
    }
}
