namespace Granary.Grains.Hosting.StateFiles;

/// <summary>
/// Grain state that must not fall back to its previous copy when its current file is damaged. The previous copy is
/// the state before the last change, and for a topic that change may be its delete or its creation again as a new
/// incarnation: reading the older copy would bring a deleted topic back, or hide a re-created one (its data then
/// unreachable). <see cref="FileGrainStorage"/> reports such damage as unrecoverable (<c>CorruptData</c>) and leaves
/// both files for an operator, who can restore the <c>.prev</c> copy by hand when it is the right one. A missing
/// current file (a crash between the two renames of a write) still reads the previous copy: it is the last state
/// written in full.
/// </summary>
internal interface IExactState;
