using Granary.Grains.Hosting.StateFiles;

namespace Granary.Silo.Admin.Models;

/// <summary>The answer of <c>GET /api/v1/damage</c>: this silo's damaged state files, oldest first.</summary>
/// <param name="Reported">How many damaged files were found since the silo started.</param>
/// <param name="Events">The latest of them (up to 200): what was found damaged, when, and what the silo did.</param>
internal sealed record DamageView(long Reported, IReadOnlyList<StateDamageEvent> Events);
