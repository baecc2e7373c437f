using Granary.Grains;
using Granary.Grains.Security;

namespace Granary.Client.Internal;

/// <summary>
/// Outgoing call filter of the client: puts the client's credential (API key, access token or certificate session
/// token) in the request context of every call (<see cref="SecurityContextKeys.Credential"/>), where the silo's gate
/// reads and removes it. Calls that sign in carry none.
/// </summary>
internal sealed class ClientCredential : IOutgoingGrainCallFilter
{
    private readonly string? _fixed;
    private readonly Func<CancellationToken, ValueTask<string>>? _provider;

    public ClientCredential(GranaryClientOptions options)
    {
        _fixed = options.ApiKey ?? options.AccessToken;
        _provider = options.AccessTokenProvider;
    }

    /// <summary>The certificate sign-in, once the client is connected (it needs the connection to sign in).</summary>
    public CertificateIdentity? Certificate { get; set; }

    /// <summary>True when the client sends a credential at all.</summary>
    public bool HasCredential => _fixed is not null || _provider is not null || Certificate is not null;

    public Task Invoke(IOutgoingGrainCallContext context)
    {
        if (_fixed is not null)
        {
            RequestContext.Set(SecurityContextKeys.Credential, _fixed);
            return context.Invoke();
        }
        if (_provider is null && Certificate is null) return context.Invoke();
        if (context.InterfaceMethod.DeclaringType == typeof(IClientSessionGrain)) return context.Invoke();
        return InvokeWithDynamicCredentialAsync(context);
    }

    private async Task InvokeWithDynamicCredentialAsync(IOutgoingGrainCallContext context)
    {
        string? credential = _provider is not null
            ? await _provider(CancellationToken.None).ConfigureAwait(false)
            : await Certificate!.GetTokenAsync().ConfigureAwait(false);
        if (!string.IsNullOrEmpty(credential)) RequestContext.Set(SecurityContextKeys.Credential, credential);
        await context.Invoke().ConfigureAwait(false);
    }
}
