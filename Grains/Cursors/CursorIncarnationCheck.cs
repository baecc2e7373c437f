using Granary.Grains.Hosting.StateFiles;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Cursors;

/// <summary>
/// Runs at a cursor's activation, before anything reads its state: state saved for an earlier topic of this name
/// (its topic state was lost, or its delete did not finish) is cleared, so a new topic never starts at, or skips
/// to, an old topic's offsets (its state log, <see cref="ICursorStateLog"/>, and grain state of the earlier format alike). The incarnation is kept beside the cursor state rather than in it, so the cursor's
/// saves need not know about it. State without a record belongs to a topic that predates incarnations: it is kept
/// when the topic has none either.
/// </summary>
internal static partial class CursorIncarnationCheck
{
    public static async Task ForgetEarlierIncarnationAsync(IGrainFactory grains, IPersistentState<CursorState> state,
        IPersistentState<CursorIncarnation> incarnation, ICursorStateLog? log, ILogger logger, string topic, string group, int partition)
    {
        string? current;
        try
        {
            current = (await grains.GetGrain<ITopicGrain>(topic).GetConfigAsync()).Incarnation;
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicNotFound)
        {
            return; // every call needs the topic and fails the same way
        }
        if (incarnation.State.Damage is { } damage)
        {
            // Whose state the cursor holds is unknown: start again from the earliest retained offset, as a damaged cursor does.
            state.State.Damage ??= damage;
            incarnation.State = new CursorIncarnation { Incarnation = current };
            await incarnation.WriteStateAsync();
            return;
        }
        bool recorded = incarnation.RecordExists;
        if (recorded ? incarnation.State.Incarnation == current : current is null) return;
        bool logged = log is not null && (log.Loaded.Snapshot is not null || log.Loaded.Damage is not null);
        if (state.RecordExists || logged)
        {
            LogEarlierIncarnation(logger, topic, group, partition);
            if (state.RecordExists) await state.ClearStateAsync();
            if (logged) await log!.DeleteAsync();
        }
        incarnation.State = new CursorIncarnation { Incarnation = current };
        await incarnation.WriteStateAsync();
    }

    [LoggerMessage(3101, LogLevel.Warning, "The cursor of group {Group} on partition {Partition} of topic {Topic} belonged to an earlier topic of that name; it starts over")]
    private static partial void LogEarlierIncarnation(ILogger logger, string topic, string group, int partition);
}
