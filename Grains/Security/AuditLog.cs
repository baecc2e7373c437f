using Microsoft.Extensions.Logging;

namespace Granary.Grains.Security;

/// <summary>
/// Records changes to the cluster (creates, alters, deletes, seeks, redrives, key and rule changes): a structured log
/// event (1720) and an entry in the <see cref="ISecurityStore"/>'s audit log, read through <c>GET /api/v1/audit</c>.
/// A store that cannot be written does not undo the change, which has happened; the log event still says what it was.
/// </summary>
public sealed partial class AuditLog(ISecurityStore store, TimeProvider time, ILogger<AuditLog> logger, string silo)
{
    /// <summary>Records that <paramref name="principal"/> did <paramref name="action"/> to <paramref name="target"/>.</summary>
    public async Task RecordAsync(string principal, string action, string target, string? detail = null)
    {
        var audit = new AuditEvent(time.GetUtcNow(), principal, action, target, detail, silo);
        LogAudit(logger, audit.Principal, audit.Action, audit.Target, audit.Detail ?? "", audit.Silo);
        try
        {
            await store.AppendAuditAsync(audit).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogNotStored(logger, e, audit.Action, audit.Target);
        }
    }

    /// <summary>The newest audit events, newest first.</summary>
    public Task<IReadOnlyList<AuditEvent>> ReadAsync(DateTimeOffset? since, int limit, CancellationToken cancellationToken = default) =>
        store.ReadAuditAsync(since, limit, cancellationToken);

    [LoggerMessage(1720, LogLevel.Information, "Audit: {Principal} {Action} {Target} {Detail} (on {Silo})")]
    private static partial void LogAudit(ILogger logger, string principal, string action, string target, string detail, string silo);

    [LoggerMessage(1721, LogLevel.Error, "Audit: could not store the event {Action} {Target} in the audit log")]
    private static partial void LogNotStored(ILogger logger, Exception exception, string action, string target);
}
