namespace Granary.Client;

/// <summary>
/// Remembers which messages were handled, for idempotent consumers (<see cref="HandlerOptions.IdempotencyStore"/>).
/// Ids are <see cref="MessageView.MessageId"/> when the sender set one, else <c>{topic}/{partition}/{offset}</c>;
/// use one store (or one table, or a key prefix) per consumer group, since two groups handle the same message each.
/// </summary>
/// <remarks>
/// <para>
/// The contract is a claim with three outcomes rather than a plain "seen?" flag, because an id can be delivered
/// twice at the same time (two sends with one id, or a redelivery after a lease ran out while the first handler is
/// still running). Acknowledging the second copy while the first might still fail would lose the message.
/// </para>
/// <para>
/// The runner calls <see cref="TryBeginAsync"/> before the handler. On <see cref="IdempotencyStatus.Started"/> it
/// runs the handler and then calls <see cref="CompleteAsync"/> (on success, before the ack) or
/// <see cref="AbandonAsync"/> (on failure, before the nack). On <see cref="IdempotencyStatus.Completed"/> it acks
/// without handling; on <see cref="IdempotencyStatus.InProgress"/> it nacks with
/// <see cref="HandlerOptions.InProgressRetryDelay"/>.
/// </para>
/// <para>
/// With a database the contract maps onto one table with a unique key, e.g.
/// <c>(message_key text primary key, completed boolean, claimed_until timestamptz)</c>:
/// <see cref="TryBeginAsync"/> is <c>INSERT ... ON CONFLICT (message_key) DO UPDATE SET claimed_until = @until
/// WHERE NOT completed AND claimed_until &lt; now() RETURNING ...</c> (a row returned: <c>Started</c>; none: read the
/// row to tell <c>Completed</c> from <c>InProgress</c>); <see cref="CompleteAsync"/> sets <c>completed</c> (an upsert,
/// so it holds even if the claim row was removed); <see cref="AbandonAsync"/> deletes the row when it is not
/// completed. Claims must expire (a process can die holding one); completed rows may be deleted after a retention
/// longer than any redelivery can take. Implementations must be thread-safe.
/// </para>
/// </remarks>
public interface IIdempotencyStore
{
    /// <summary>Claims <paramref name="messageKey"/> for handling, unless it was completed or is claimed by another handler.</summary>
    ValueTask<IdempotencyStatus> TryBeginAsync(string messageKey, CancellationToken cancellationToken);

    /// <summary>Records that the handler of <paramref name="messageKey"/> succeeded; later deliveries are duplicates.</summary>
    ValueTask CompleteAsync(string messageKey, CancellationToken cancellationToken);

    /// <summary>Releases the claim after a failed handler, so that the redelivery runs it again. A completed id stays completed.</summary>
    ValueTask AbandonAsync(string messageKey, CancellationToken cancellationToken);
}
