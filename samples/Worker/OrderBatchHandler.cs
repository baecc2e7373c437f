using Granary.Client;

namespace Granary.Samples.Worker;

// <batch-handler>
/// <summary>
/// Handles orders a batch at a time (one bulk insert for many messages). Returning acknowledges the whole batch in
/// one broker call per partition; throwing has the whole batch delivered again.
/// </summary>
public sealed partial class OrderBatchHandler(ILogger<OrderBatchHandler> logger) : IBatchMessageHandler<OrderPlaced>
{
    public Task HandleAsync(IReadOnlyList<ReceivedMessage<OrderPlaced>> batch, CancellationToken cancellationToken)
    {
        decimal total = batch.Sum(m => m.Value.Total); // your bulk insert goes here
        LogArchived(logger, batch.Count, total);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Archived {Count} orders worth {Total}")]
    private static partial void LogArchived(ILogger logger, int count, decimal total);
}
// </batch-handler>
