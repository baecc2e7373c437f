namespace Granary.Silo.Startup;

/// <summary>What the silo process exits with, so that a supervisor (systemd, Kubernetes) can tell failures apart.</summary>
public static class SiloExitCodes
{
    /// <summary>Stopped (Ctrl+C or SIGTERM).</summary>
    public const int Ok = 0;

    /// <summary>It failed to start for a reason other than its settings (a database it could not reach, a bug); the message says which.</summary>
    public const int StartFailed = 1;

    /// <summary>
    /// Its settings are refused (a value out of range, an admin API open beyond loopback without a key) or a port it is
    /// configured to listen on is taken: fix the named setting and start it again. Retrying as is fails the same way.
    /// </summary>
    public const int Configuration = 2;
}
