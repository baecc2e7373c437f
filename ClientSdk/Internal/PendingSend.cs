using Granary.Grains;

namespace Granary.Client.Internal;

/// <summary>One message on its way to a partition, with the completion its sender awaits.</summary>
internal sealed class PendingSend(Message message, int messageBytes)
{
    public Message Message { get; } = message;
    public int Size { get; } = messageBytes + 16;
    public TaskCompletionSource<SendReceipt> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
