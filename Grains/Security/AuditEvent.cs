namespace Granary.Grains.Security;

/// <summary>One change made to the cluster, for the audit log: who did what to what, when, and where.</summary>
/// <param name="Time">When the change took effect.</param>
/// <param name="Principal">Who made it.</param>
/// <param name="Action">What was done, e.g. <c>topic.create</c>, <c>group.seek</c>, <c>acl.grant</c>, <c>key.revoke</c>.</param>
/// <param name="Target">What it was done to, e.g. the topic's or group's name, the key's id.</param>
/// <param name="Detail">The change's particulars, e.g. a seek's offset or a rule.</param>
/// <param name="Silo">The silo that carried it out.</param>
public sealed record AuditEvent(DateTimeOffset Time, string Principal, string Action, string Target, string? Detail, string Silo);
