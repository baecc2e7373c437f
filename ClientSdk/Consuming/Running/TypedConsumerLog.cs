using Microsoft.Extensions.Logging;

namespace Granary.Client.Internal;

/// <summary>Log messages of typed and batch consumers.</summary>
internal static partial class TypedConsumerLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {Topic} {Partition}/{Offset} (delivery {Attempt}) could not be read as {Type}; it is dead-lettered with reason 'deserialization'")]
    public static partial void Undeserializable(ILogger logger, string topic, int partition, long offset, int attempt, string type, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {Topic} {Partition}/{Offset} could not be read as {Type}, and its reject failed ({Code}); it comes again when its lease ends")]
    public static partial void UndeserializableRejectFailed(ILogger logger, string topic, int partition, long offset, string type, GranaryErrorCode code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch handler failed on {Count} messages of {Topic}; they are nacked for {Delay}")]
    public static partial void BatchFailed(ILogger logger, string topic, int count, TimeSpan delay, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Settling a batch of {Count} messages of {Topic} failed ({Code}); those not taken come again")]
    public static partial void BatchSettleFailed(ILogger logger, string topic, int count, GranaryErrorCode code);
}
