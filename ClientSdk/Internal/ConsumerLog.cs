using Microsoft.Extensions.Logging;

namespace Granary.Client.Internal;

/// <summary>The consumer's log messages.</summary>
internal static partial class ConsumerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "The ack of {Topic} {Partition}/{Offset} (group {Group}, delivery {Attempt}) failed: {Code}")]
    public static partial void AckFailed(ILogger logger, string topic, string group, int partition, long offset, int attempt, GranaryErrorCode code, Exception error);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "An AckFailed handler of group {Group} on {Topic} threw; the exception is ignored")]
    public static partial void AckFailedHandlerThrew(ILogger logger, string topic, string group, Exception error);
}
