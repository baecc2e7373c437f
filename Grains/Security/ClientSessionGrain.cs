using Orleans.Concurrency;

namespace Granary.Grains.Security;

/// <summary>Signs certificate holders in on whichever silo the client reached (see <see cref="CertificateSessions"/>).</summary>
[StatelessWorker, GrainType("granary.client-session")]
internal sealed class ClientSessionGrain(CertificateSessions sessions) : Grain, IClientSessionGrain
{
    public Task<CertificateSession> SignInWithCertificateAsync(byte[] certificateDer, byte[][] chainDer, byte[] challengeNonce, long unixTimeSeconds, byte[] signature) =>
        Task.FromResult(sessions.SignIn(certificateDer, chainDer, challengeNonce, unixTimeSeconds, signature));
}
