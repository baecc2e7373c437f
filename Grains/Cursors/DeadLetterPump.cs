using Granary.Grains.Delivery;
using Granary.Grains.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Cursors;

/// <summary>
/// Moves a cursor's dead letters (<see cref="DeliveryState.NextDeadLetters"/>) to the dead-letter topic, a batch at a
/// time and one batch in flight, then marks them written and counts them: a crash in between writes them again
/// (at-least-once into the dead-letter topic, never lost). A failed write stops the pump; the next
/// <see cref="Start"/> (the grain's tick) tries again.
/// </summary>
/// <remarks>
/// Plain class, no Orleans: the grain supplies the write (<see cref="DeadLetterWriter"/>, to the group's dead-letter
/// topic of the moment). Not thread-safe: the grain calls it one turn at a time.
/// </remarks>
internal sealed partial class DeadLetterPump
{
    /// <summary>Letters per write at most.</summary>
    public const int LettersPerWrite = 500;

    private readonly DeliveryState _delivery;
    private readonly Func<List<DeadLetter>, Task> _write;
    private readonly Action _changed;
    private readonly ILogger _logger;
    private readonly string _topic, _group;
    private readonly int _partition;

    private bool _running, _stopped;
    // Raised by a seek: letters whose write began before it are no longer in the state, so they are not marked.
    private int _epoch;

    /// <param name="delivery">Where the letters come from and are marked written.</param>
    /// <param name="write">Writes one batch of letters to the dead-letter topic.</param>
    /// <param name="changed">Runs after letters were marked written (the grain acts on the state's outcome).</param>
    /// <param name="logger">Logs failed writes.</param>
    /// <param name="topic">The cursor's topic, for metrics and logs.</param>
    /// <param name="group">The cursor's group, for metrics and logs.</param>
    /// <param name="partition">The cursor's partition, for logs.</param>
    public DeadLetterPump(DeliveryState delivery, Func<List<DeadLetter>, Task> write, Action changed, ILogger logger,
        string topic, string group, int partition)
    {
        (_delivery, _write, _changed, _logger) = (delivery, write, changed, logger);
        (_topic, _group, _partition) = (topic, group, partition);
    }

    /// <summary>Starts writing the queued dead letters, unless a write is under way or none are queued.</summary>
    public void Start()
    {
        if (!_running && _delivery.DeadLetterCount > 0) _ = RunAsync();
    }

    /// <summary>The cursor moved: letters being written now were dropped from the state, and are not marked.</summary>
    public void Seek() => _epoch++;

    /// <summary>The cursor is deleted: no more writes begin.</summary>
    public void Stop() => _stopped = true;

    private async Task RunAsync()
    {
        // Set before the first write, so that a start asked for meanwhile (even before its first await) is left to this one.
        _running = true;
        try
        {
            while (_delivery.DeadLetterCount > 0 && !_stopped)
            {
                int epoch = _epoch;
                var batch = _delivery.NextDeadLetters(LettersPerWrite);
                try
                {
                    await _write(batch);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogDeadLetterFailed(_logger, e, batch.Count, _topic, _group, _partition);
                    return;
                }
                if (epoch != _epoch) continue; // a seek dropped them
                var (maxDeliveries, expired, rejected, deserialization) = _delivery.DeadLettersWritten(batch);
                GranaryMetrics.RecordDeadLettered(_topic, _group, GranaryHeaders.Reasons.MaxDeliveries, maxDeliveries);
                GranaryMetrics.RecordDeadLettered(_topic, _group, GranaryHeaders.Reasons.Expired, expired);
                GranaryMetrics.RecordDeadLettered(_topic, _group, GranaryHeaders.Reasons.Rejected, rejected);
                GranaryMetrics.RecordDeadLettered(_topic, _group, GranaryHeaders.Reasons.Deserialization, deserialization);
                GranaryMetrics.RecordExpired(_topic, _group, expired);
                _changed();
            }
        }
        finally
        {
            _running = false;
        }
    }

    [LoggerMessage(3003, LogLevel.Warning, "Could not dead-letter {Count} messages of group {Group} on partition {Partition} of topic {Topic}; retrying")]
    private static partial void LogDeadLetterFailed(ILogger logger, Exception exception, int count, string topic, string group, int partition);
}
