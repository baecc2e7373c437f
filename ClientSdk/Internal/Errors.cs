using Orleans.Runtime;

namespace Granary.Client.Internal;

/// <summary>Maps what a grain call can throw to <see cref="GranaryException"/>.</summary>
internal static class Errors
{
    public static GranaryException Translate(Exception exception) => exception switch
    {
        GranaryException granary => granary,
        // A grain whose activation failed with a typed error (a damaged state file: CorruptData) reaches the caller
        // wrapped by Orleans' storage bridge; the typed error is the answer, not "unreachable, retry".
        OrleansException { InnerException: GranaryException inner } => inner,
        TimeoutException => new GranaryException(GranaryErrorCode.Timeout, "The cluster did not answer in time.", exception),
        SiloUnavailableException or OrleansMessageRejectionException or OrleansException
            => new GranaryException(GranaryErrorCode.PartitionUnavailable, $"The cluster is not reachable right now: {exception.Message}", exception),
        ObjectDisposedException => new GranaryException(GranaryErrorCode.Closed, "The client was disposed.", exception),
        _ => new GranaryException(GranaryErrorCode.PartitionUnavailable, $"The call failed: {exception.Message}", exception),
    };

    /// <summary>Most characters of a caller's input that an error message repeats.</summary>
    public const int MaxEchoedChars = 100;

    /// <summary><paramref name="input"/> as an error message may repeat it: cut to <see cref="MaxEchoedChars"/> characters.</summary>
    public static string Echo(string input) => input.Length <= MaxEchoedChars ? input : string.Concat(input.AsSpan(0, MaxEchoedChars), "...");

    public static bool IsFatal(GranaryException exception) => !exception.IsRetriable;
}
