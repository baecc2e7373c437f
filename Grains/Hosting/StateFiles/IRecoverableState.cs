namespace Granary.Grains.Hosting.StateFiles;

/// <summary>
/// Grain state whose grain knows a safe way to go on when its state file is damaged and has no good previous copy.
/// <see cref="FileGrainStorage"/> then hands the grain a fresh state with <see cref="Damage"/> set, instead of failing
/// the activation with <c>CorruptData</c>; the grain repairs it (a cursor starts again from the earliest retained
/// offset, the topic registry rebuilds itself), reports it to <see cref="StateDamageLog"/> and writes the repaired state.
/// </summary>
internal interface IRecoverableState
{
    /// <summary>Set (never stored) when the state was lost to damage: which file, and what was wrong with it.</summary>
    StateFileDamage? Damage { get; set; }
}

/// <summary>A state file found damaged with no good copy: its path and what was wrong.</summary>
internal sealed record StateFileDamage(string File, string Problem);
