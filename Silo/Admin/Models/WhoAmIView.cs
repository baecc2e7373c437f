namespace Granary.Silo.Admin.Models;

/// <summary>
/// The answer of <c>GET /api/v1/whoami</c>: who the caller is and, for the console to show only what it may do, its
/// permissions on the cluster and on the topics and groups it asked about.
/// </summary>
/// <param name="Principal">The principal's name (<c>anonymous</c> while security is off).</param>
/// <param name="Kind">How it authenticated: ApiKey, Certificate, Jwt, Bootstrap or Anonymous.</param>
/// <param name="SecurityEnabled">Whether <c>Granary:Security:Enabled</c> is on; off, everyone may do everything.</param>
/// <param name="Superuser">Whether the principal passes every check.</param>
/// <param name="CanDescribeCluster">May list the cluster's silos, damage reports and metrics.</param>
/// <param name="CanAdmin">May manage keys and rules and read the audit log (Admin on the cluster).</param>
/// <param name="CanCreateTopics">Some rule lets it create topics (which names, the rules say).</param>
/// <param name="Topics">For each topic asked about (<c>?topic=</c>): the operations the principal may do to it.</param>
/// <param name="Groups">For each group asked about (<c>?group={topic}/{group}</c>): the operations the principal may do to it.</param>
internal sealed record WhoAmIView(
    string Principal, string Kind, bool SecurityEnabled, bool Superuser, bool CanDescribeCluster, bool CanAdmin, bool CanCreateTopics,
    IReadOnlyDictionary<string, string[]> Topics, IReadOnlyDictionary<string, string[]> Groups);
