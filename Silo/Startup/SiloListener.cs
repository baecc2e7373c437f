namespace Granary.Silo.Startup;

/// <summary>A port the silo is configured to listen on: what it serves, where, and the setting that put it there.</summary>
/// <param name="Door">What it serves, as a message names it ("the gateway", "the Kestrel endpoint 'Public'").</param>
/// <param name="Address">Where, as configured: an IP endpoint or a URL.</param>
/// <param name="Setting">The setting that chose the address, named in the refusal so the operator knows what to change.</param>
/// <param name="BeyondLoopback">
/// Whether another machine may reach it. Only a loopback IP address and <c>localhost</c> count as loopback; a wildcard
/// (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>, <c>[::]</c>), any other address or host name, or an address that cannot be
/// read is beyond loopback: a host name may resolve to anything.
/// </param>
/// <param name="OtherGuard">
/// What, other than <c>Granary:Security:Enabled</c>, checks its callers (the admin API's own key), or null when nothing
/// does; a listener beyond loopback with such a guard may start with security off.
/// </param>
/// <param name="GuardRemedy">The setting that would give it that guard, offered in the refusal; null when there is none.</param>
internal sealed record SiloListener(string Door, string Address, string Setting, bool BeyondLoopback, string? OtherGuard = null, string? GuardRemedy = null);
