using Microsoft.Extensions.Logging;

namespace Granary.Client.Internal;

/// <summary>The client's log messages (connection, producer, consumer membership); the consumer's ack failures are in <see cref="ConsumerLog"/>.</summary>
internal static partial class ClientLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Connecting to Granary cluster '{ClusterId}' through {Gateways}")]
    public static partial void Connecting(ILogger logger, string clusterId, string gateways);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Connected to Granary cluster '{ClusterId}' in {ElapsedMs} ms")]
    public static partial void Connected(ILogger logger, string clusterId, long elapsedMs);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Connection attempt {Attempt} failed ({Kind}): {Cause}")]
    public static partial void ConnectAttemptFailed(ILogger logger, int attempt, ConnectFailureKind kind, string? cause, Exception exception);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Connecting to Granary cluster '{ClusterId}' failed: {Reason}")]
    public static partial void ConnectFailed(ILogger logger, string clusterId, string reason, Exception? exception);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Lost the connection to every gateway of the Granary cluster; calls fail until one is back")]
    public static partial void ClusterConnectionLost(ILogger logger);

    [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "Connected gateways: {Current} (were {Previous}){Recovered}")]
    public static partial void GatewayCountChanged(ILogger logger, int current, int previous, string recovered);

    [LoggerMessage(EventId = 110, Level = LogLevel.Warning, Message = "Sending a batch of {Count} to {Topic}/{Partition} failed ({Code}); retry {Retry} of {MaxRetries} in {DelayMs} ms")]
    public static partial void SendRetrying(ILogger logger, string topic, int partition, int count, GranaryErrorCode code, int retry, int maxRetries, long delayMs, Exception error);

    [LoggerMessage(EventId = 111, Level = LogLevel.Error, Message = "Sending a batch of {Count} to {Topic}/{Partition} failed for good: {Code}")]
    public static partial void SendFailed(ILogger logger, string topic, int partition, int count, GranaryErrorCode code, Exception error);

    [LoggerMessage(EventId = 120, Level = LogLevel.Information, Message = "Joined group '{Group}' of {Topic} as {Member}: {Partitions} partitions")]
    public static partial void Joined(ILogger logger, string topic, string group, string member, int partitions);

    [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "The group '{Group}' of {Topic} dropped member {OldMember}; joined again as {Member}")]
    public static partial void Rejoined(ILogger logger, string topic, string group, string oldMember, string member);

    [LoggerMessage(EventId = 122, Level = LogLevel.Information, Message = "{Topic} grew to {Partitions} partitions; group '{Group}' now reads them all")]
    public static partial void PartitionsAdded(ILogger logger, string topic, string group, int partitions);

    [LoggerMessage(EventId = 123, Level = LogLevel.Error, Message = "The consumer of group '{Group}' on {Topic} stopped: {Code}")]
    public static partial void ConsumerFailed(ILogger logger, string topic, string group, GranaryErrorCode code, Exception error);

    [LoggerMessage(EventId = 124, Level = LogLevel.Warning, Message = "Pulling {Topic}/{Partition} for group '{Group}' failed ({Code}); retrying in {DelayMs} ms")]
    public static partial void PullRetrying(ILogger logger, string topic, string group, int partition, GranaryErrorCode code, long delayMs);
}
