using Microsoft.Extensions.Logging;

namespace Granary.Client;

/// <summary>Acks and nacks of many messages at once: the settlements of a batch handler.</summary>
public sealed partial class GranaryConsumer
{
    /// <summary>
    /// Acknowledges <paramref name="messages"/> together: the consumer sends them in one broker call per partition,
    /// and the task completes once the broker has answered them all. Messages settled already (acked, nacked or
    /// rejected one by one) are left out. The batch form of <see cref="ReceivedMessage.AckConfirmedAsync"/>.
    /// </summary>
    /// <param name="messages">Messages of this consumer.</param>
    /// <param name="cancellationToken">Stops waiting for the answers; the acks are still sent.</param>
    /// <exception cref="GranaryException">
    /// The first failure when some were not taken (<see cref="ErrorCode.StaleDelivery"/>: delivered again since their
    /// lease ended; <see cref="ErrorCode.Closed"/>: the consumer was disposed first; a retriable code when the call
    /// failed); the others were taken. Messages not taken come again.
    /// </exception>
    public Task AckAsync(IReadOnlyCollection<ReceivedMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var settled = SettleTogetherAsync(messages, SettleKind.Ack, TimeSpan.Zero);
        if (!cancellationToken.CanBeCanceled) return settled;
        _ = settled.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return settled.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Settles <paramref name="messages"/> (those not settled yet) in one pass of the settle loop, so one broker call
    /// per partition; completes when every one is answered, faulted with the first failure.
    /// </summary>
    internal Task SettleTogetherAsync(IReadOnlyCollection<ReceivedMessage> messages, SettleKind kind, TimeSpan delay)
    {
        // All checked before any is marked: a refused call must leave every message as it was.
        foreach (var message in messages)
        {
            if (!ReferenceEquals(message.Consumer, this)) throw new ArgumentException($"Message {message.Partition}/{message.Offset} is not one of this consumer's.", nameof(messages));
        }
        var items = new List<Settlement>(messages.Count);
        foreach (var message in messages)
        {
            if (message.TryMarkSettled()) items.Add(new Settlement(message, kind, delay, confirmed: true));
        }
        if (items.Count == 0) return Task.CompletedTask;
        if (!_settlements.Writer.TryWrite(new Settlement(null, kind, delay, confirmed: false) { Together = [.. items] }))
            return Task.FromException(new GranaryException(ErrorCode.Closed,
                $"The consumer of topic '{Topic}', group '{Group}' was disposed; {items.Count} messages will be redelivered."));
        return Task.WhenAll(items.Select(i => i.Completion!.Task));
    }

    /// <summary>This consumer's logger, for the typed and batch runners built on it.</summary>
    internal ILogger Logger => _logger;
}
