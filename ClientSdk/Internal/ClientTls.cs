using System.Reflection;

namespace Granary.Client.Internal;

/// <summary>
/// Applies <see cref="GranaryClientTlsOptions"/> to the Orleans client, and remembers why the handshake last failed.
/// TLS itself lives in the opt-in package Granary.Client.Tls, because Orleans' TLS package brings the Orleans server
/// runtime; the client finds it by name, so that a client without TLS carries no server runtime.
/// </summary>
internal sealed class ClientTls
{
    internal const string PackageId = "Granary.Client.Tls";
    private const string TypeName = "Granary.Client.Tls.OrleansClientTls, " + PackageId;
    private readonly string _typeName;
    private volatile string? _lastRejection;
    private volatile Exception? _handshakeFailure;

    public ClientTls()
        : this(TypeName)
    {
    }

    /// <summary>For tests: looks for the TLS implementation under <paramref name="typeName"/>.</summary>
    internal ClientTls(string typeName) => _typeName = typeName;

    /// <summary>Why the client last refused a silo's certificate, or null if it never did.</summary>
    public string? LastRejection => _lastRejection;

    /// <summary>
    /// The error of the last failed TLS handshake on this client's side (an <see cref="System.Security.Authentication.AuthenticationException"/>,
    /// or an <see cref="IOException"/> when the gateway does not speak TLS), or null. A handshake that timed out is not
    /// kept: the gateway accepted the connection but did not answer (a silo still starting, or overloaded), which a
    /// later attempt may get past.
    /// </summary>
    public Exception? HandshakeFailure => _handshakeFailure;

    /// <exception cref="InvalidOperationException">TLS is on and Granary.Client.Tls is not referenced, or its files cannot be used.</exception>
    public void Apply(IClientBuilder client, GranaryClientTlsOptions options)
    {
        if (!options.Enabled) return;
        var apply = Type.GetType(_typeName, throwOnError: false)?.GetMethod("Apply", BindingFlags.Public | BindingFlags.Static,
                [typeof(IClientBuilder), typeof(GranaryClientTlsOptions), typeof(Action<string>), typeof(Action<Exception>)])
            ?? throw new InvalidOperationException(
                $"GranaryClientOptions.Tls.Enabled needs the {PackageId} package (Granary.Client does not carry TLS, whose Orleans package brings the Orleans server runtime): add it to the application.");
        try
        {
            apply.Invoke(null, [client, options, (Action<string>)(rejection => _lastRejection = rejection), (Action<Exception>)(failure =>
            {
                if (failure is not (OperationCanceledException or TimeoutException)) _handshakeFailure = failure;
            })]);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
        }
    }
}
