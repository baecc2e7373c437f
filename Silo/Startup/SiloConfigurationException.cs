namespace Granary.Silo.Startup;

/// <summary>
/// The silo cannot start as configured; the message names the setting to change. The silo prints the message alone
/// (no stack trace) and exits with <see cref="SiloExitCodes.Configuration"/>.
/// </summary>
public sealed class SiloConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SiloConfigurationException()
    {
    }

    /// <summary>Creates the exception with the message to print.</summary>
    public SiloConfigurationException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with the message to print and its cause.</summary>
    public SiloConfigurationException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
