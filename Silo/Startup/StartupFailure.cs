using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace Granary.Silo.Startup;

/// <summary>
/// Why the silo did not start, as it is printed (one line on stderr, no stack trace for a refused setting) and the
/// exit code it ends with.
/// </summary>
/// <param name="ExitCode">One of <see cref="SiloExitCodes"/>.</param>
/// <param name="Message">The text to print.</param>
internal sealed record StartupFailure(int ExitCode, string Message)
{
    private const string Prefix = "Granary silo cannot start: ";

    /// <summary>
    /// Describes an exception thrown while the silo read its configuration and built its host: every
    /// <see cref="InvalidOperationException"/> there is a refused or unreadable setting (the configuration binder
    /// reports a value of the wrong type that way, and the option checks throw it naming the setting).
    /// </summary>
    public static StartupFailure WhileConfiguring(Exception exception) =>
        FindConfigurationError(exception, configuring: true) is { } reason
            ? new StartupFailure(SiloExitCodes.Configuration, Prefix + reason)
            : Unexpected(exception);

    /// <summary>Describes an exception thrown while the host started (options validated on start, listeners bound).</summary>
    public static StartupFailure WhileStarting(Exception exception) =>
        FindConfigurationError(exception, configuring: false) is { } reason
            ? new StartupFailure(SiloExitCodes.Configuration, Prefix + reason)
            : Unexpected(exception);

    /// <summary>Anything else is a failure we did not foresee: its full text (with the stack trace) helps a bug report.</summary>
    private static StartupFailure Unexpected(Exception exception) =>
        new(SiloExitCodes.StartFailed, $"Granary silo failed to start: {exception}");

    /// <summary>
    /// The message of the configuration error in <paramref name="exception"/> or its inner exceptions (Orleans wraps
    /// lifecycle failures, Kestrel wraps bind failures in an <see cref="IOException"/>), or null when it is none.
    /// </summary>
    private static string? FindConfigurationError(Exception exception, bool configuring)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SiloConfigurationException or Orleans.Runtime.OrleansConfigurationException:
                    return OneLine(e.Message);
                case OptionsValidationException invalid:
                    return OneLine(string.Join(" ", invalid.Failures));
                case AddressInUseException inUse:
                    // A listener that lost the race with another process after the port probe (PortProbe).
                    return OneLine($"{inUse.Message} Another process listens on a port this silo is configured for; stop it or choose free ports (Granary:SiloPort, Granary:GatewayPort, Granary:Admin:Urls).");
                case InvalidOperationException when configuring:
                    // The binder's "Failed to convert configuration value 'abc' at 'Granary:SiloPort'" has the
                    // parser's error as its inner exception, which adds nothing the operator needs.
                    return OneLine(e.Message);
                case AggregateException aggregate when aggregate.InnerExceptions.Count > 0:
                    foreach (var inner in aggregate.InnerExceptions)
                        if (FindConfigurationError(inner, configuring) is { } reason) return reason;
                    return null;
            }
        }
        return null;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
