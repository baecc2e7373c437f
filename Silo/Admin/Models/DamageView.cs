using Granary.Grains.Hosting.StateFiles;

namespace Granary.Silo.Admin.Models;

/// <summary>The answer of <c>GET /api/v1/damage</c>: this silo's damaged state files, oldest first.</summary>
/// <param name="Events">What was found damaged, when, and what the silo did.</param>
internal sealed record DamageView(IReadOnlyList<StateDamageEvent> Events);
