using Granary.Grains;

namespace Granary.Client.Internal;

/// <summary>
/// One message on its way to a partition, with the completion its sender awaits and what routing needs: the
/// producer routes it once the topic's settings are known, and again (once) if its partition turns out to be gone.
/// </summary>
internal sealed class PendingSend(Message message, int messageBytes, byte[]? routingKey, int? explicitPartition, CancellationToken cancellationToken)
{
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

    public TaskCompletionSource<SendReceipt> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
