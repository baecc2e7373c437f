using System.Diagnostics.Metrics;
using Granary.Grains.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Hosting.StateFiles;

/// <summary>
/// Damaged state files this silo found, and what it did about each: logged as errors, counted by the
/// <c>granary.state.damaged</c> metric (tags <c>kind</c> and <c>action</c>), and kept (the latest
/// <see cref="Capacity"/>) for the admin API's <c>GET /api/v1/damage</c>.
/// </summary>
public sealed partial class StateDamageLog(ILogger<StateDamageLog> logger, TimeProvider time)
{
    /// <summary>How many of the latest events are kept.</summary>
    public const int Capacity = 200;

    private static readonly Counter<long> Damaged = GranaryMetrics.Meter.CreateCounter<long>("granary.state.damaged", "{file}",
        "State files found damaged (failed checksum, cut, unreadable), by kind (cursor, topic, group, topics, reminders, ...) and by what the silo did (action).");

    private readonly Queue<StateDamageEvent> _events = new();
    private readonly Lock _lock = new();
    private long _reported;

    /// <summary>How many damaged files were reported since the silo started (<see cref="Events"/> keeps the latest).</summary>
    public long Reported => Interlocked.Read(ref _reported);

    /// <summary>The kept events, oldest first.</summary>
    public IReadOnlyList<StateDamageEvent> Events
    {
        get { lock (_lock) return [.. _events]; }
    }

    /// <summary>Records that <paramref name="file"/> of the given kind was damaged and what was done (<paramref name="action"/>).</summary>
    public void Report(string kind, string file, string problem, StateDamageAction action, string detail)
    {
        var damage = new StateDamageEvent(time.GetUtcNow(), kind, file, problem, action, detail);
        lock (_lock)
        {
            _events.Enqueue(damage);
            while (_events.Count > Capacity) _events.Dequeue();
            _reported++;
        }
        Damaged.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("action", action.ToString()));
        LogDamaged(logger, kind, file, problem, action, detail);
    }

    [LoggerMessage(7001, LogLevel.Error, "Damaged {Kind} state file {File}: {Problem}. Action: {Action}: {Detail}")]
    private static partial void LogDamaged(ILogger logger, string kind, string file, string problem, StateDamageAction action, string detail);
}

/// <summary>One damaged state file: when it was found, its kind and path, what was wrong and what the silo did.</summary>
/// <param name="At">When the damage was found.</param>
/// <param name="Kind">What the file holds: a grain state name (<c>cursor</c>, <c>topic</c>, <c>group</c>, <c>topics</c>, ...) or <c>reminders</c>.</param>
/// <param name="File">The file's path.</param>
/// <param name="Problem">What was wrong with it.</param>
/// <param name="Action">What the silo did.</param>
/// <param name="Detail">The action in words (the offset a cursor starts again from, the topics a registry was rebuilt with, ...).</param>
public sealed record StateDamageEvent(DateTimeOffset At, string Kind, string File, string Problem, StateDamageAction Action, string Detail);

/// <summary>What the silo did about a damaged state file.</summary>
public enum StateDamageAction
{
    /// <summary>It used the previous good copy (kept beside the file as <c>.prev</c>).</summary>
    RestoredPrevious,
    /// <summary>No good copy: the owner reset the state to a safe point (a cursor: the partition's earliest retained offset).</summary>
    Reset,
    /// <summary>No good copy: the state was rebuilt from other data (the topic registry from the topics' state; reminders start empty).</summary>
    Rebuilt,
    /// <summary>No good copy: the owner answers with a <c>CorruptData</c> error until an operator repairs or deletes it.</summary>
    Unrecoverable,
}
