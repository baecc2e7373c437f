using Granary.Grains;

namespace Granary.Client.Internal;

/// <summary>
/// One message on its way to a partition, with the completion its sender awaits and what routing needs: the
/// producer routes it once the topic's settings are known, and again (once) if its partition turns out to be gone.
/// </summary>
/// <remarks>
/// The outcome is set only through <see cref="TrySucceed"/>, <see cref="TryFail"/> and <see cref="TryCancel"/>, which
/// tell the <see cref="ISendOutcomeObserver"/> first (counted before the caller can see the outcome) and once the task
/// is complete (no longer outstanding). So the producer needs no continuation or async state machine per send to
/// observe its outcome.
/// </remarks>
internal sealed class PendingSend(Message message, int messageBytes, byte[]? routingKey, int? explicitPartition, CancellationToken cancellationToken,
    ISendOutcomeObserver? observer = null)
{
    private int _settled;

    public Message Message { get; } = message;

    /// <summary>The message's bytes as counted against the topic's limit (Message.SizeInBytes).</summary>
    public int MessageBytes { get; } = messageBytes;

    /// <summary>The message's share of a batch's bytes.</summary>
    public int Size { get; } = messageBytes + 16;

    /// <summary>The bytes a partition is chosen by (the key, else the message id); null: round-robin.</summary>
    public byte[]? RoutingKey { get; } = routingKey;

    /// <summary>The partition the sender asked for, whatever the key; null: chosen by key.</summary>
    public int? ExplicitPartition { get; } = explicitPartition;

    /// <summary>Cancels the send while it waits for room in its partition's queue (not once queued).</summary>
    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>True once it was routed again after its partition refused it as unknown: it is not re-routed twice.</summary>
    public bool Rerouted { get; set; }

    /// <summary>The send's outcome; set it through <see cref="TrySucceed"/>, <see cref="TryFail"/> or <see cref="TryCancel"/>.</summary>
    public TaskCompletionSource<SendReceipt> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Confirms the send; false when it already had an outcome.</summary>
    public bool TrySucceed(SendReceipt receipt)
    {
        if (!Settle(null)) return false;
        Completion.SetResult(receipt);
        observer?.Completed();
        return true;
    }

    /// <summary>Fails the send with <paramref name="error"/>; false when it already had an outcome.</summary>
    public bool TryFail(Exception error)
    {
        if (!Settle(error)) return false;
        Completion.SetException(error);
        observer?.Completed();
        return true;
    }

    /// <summary>Cancels the send (its wait for room was cancelled by <paramref name="token"/>); false when it already had an outcome.</summary>
    public bool TryCancel(CancellationToken token)
    {
        if (!Settle(new OperationCanceledException(token))) return false;
        Completion.SetCanceled(token);
        observer?.Completed();
        return true;
    }

    private bool Settle(Exception? error)
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0) return false;
        observer?.Settling(error);
        return true;
    }
}
